// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The HTML report's chart: open bpf FDs of one process over time, stacked
 * by call site.  Plain SVG with no script and no external font, so it
 * reads the same in a mail client, a ticket attachment viewer or a
 * browser with JavaScript off.  Each series is a step area (a reload that
 * opens four FDs is a step of four); leaking sites are drawn at the bottom
 * in warm colours with a thick top line and a label with their line of
 * code.  The markup names what a test needs: class="series site" per
 * site, data-site its number in the report, data-pid on the <svg>.
 */
#include <stdlib.h>
#include <string.h>
#include "escape.h"
#include "timeline.h"

enum {
	W = 960, H = 300,
	ML = 56, MR = 260, MT = 16, MB = 44,
	PW = W - ML - MR, PH = H - MT - MB,
	COLS = 2 * PW,           /* two columns a pixel: a step lands within half a pixel */
	LABEL_GAP = 13,          /* px between two labels */
	LABEL_CHARS = 36,
};

static const char *const leak_colors[] = { "#cf222e", "#bc4c00", "#a0116b", "#8250df", "#9a6700",
					   "#e85aad" };
static const char *const info_colors[] = { "#0969da", "#1a7f37", "#57606a", "#1b7c83", "#6639ba",
					   "#3f6a9e" };

struct drawn {
	const struct tl_series *s;
	const char *color;
	int leak;
	double label_y, want_y;
	char *label;
};

static double xpos(size_t col)
{
	return ML + (double)col * PW / COLS;
}

static double ypos(double v, int ymax)
{
	return MT + PH - v * PH / ymax;
}

/* 1, 2 or 5 times a power of ten, at least x. */
static int64_t nice_step(double x)
{
	int64_t p = 1;
	while ((double)p * 10 <= x && p < INT64_MAX / 10)
		p *= 10;
	if (p >= x)
		return p;
	if (2 * p >= x)
		return 2 * p;
	if (5 * p >= x)
		return 5 * p;
	return 10 * p;
}

/* Up to max bytes of s, cut at a character boundary, "..." when cut. */
static char *shorten(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return xstrdup(s);
	while (max && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return xasprintf("%.*s...", (int)max, s);
}

static void step_path(FILE *out, const int *top, int ymax)
{
	fprintf(out, "M%.1f,%.1f", xpos(0), ypos(top[0], ymax));
	for (size_t c = 1; c < COLS; c++)
		if (top[c] != top[c - 1])
			fprintf(out, "H%.1fV%.1f", xpos(c), ypos(top[c], ymax));
	fprintf(out, "H%.1f", xpos(COLS));
}

/* The area between base and top: along top left to right, back along base. */
static void area_path(FILE *out, const int *base, const int *top, int ymax)
{
	step_path(out, top, ymax);
	fprintf(out, "V%.1f", ypos(base[COLS - 1], ymax));
	for (size_t c = COLS - 1; c > 0; c--)
		if (base[c - 1] != base[c])
			fprintf(out, "H%.1fV%.1f", xpos(c), ypos(base[c - 1], ymax));
	fprintf(out, "H%.1fZ", xpos(0));
}

static char *series_label(const struct model *m, const struct siteset *ss, const struct tl_series *s)
{
	(void)m;
	if (s->kind == TL_OTHER)
		return xstrdup("other bpf FDs (no finding)");
	if (s->kind == TL_MORE_SITES)
		return xasprintf("%zu more call sites", s->n_sites);
	const struct site *site = &ss->v[s->site];
	char *title = site_title(site);
	char *full = xasprintf("[%zu] %s%s", s->site + 1, site->leak ? "LEAK " : "", title);
	char *l = shorten(full, LABEL_CHARS);
	free(title);
	free(full);
	return l;
}

/* Labels beside the plot at their series' last band, pushed apart so none overlap. */
static void place_labels(struct drawn *d, size_t n)
{
	struct drawn **order = xcalloc(n, sizeof(*order));
	for (size_t i = 0; i < n; i++)
		order[i] = &d[i];
	for (size_t i = 1; i < n; i++)   /* insertion sort by wanted y: n <= 14 */
		for (size_t k = i; k > 0 && order[k]->want_y < order[k - 1]->want_y; k--) {
			struct drawn *t = order[k];
			order[k] = order[k - 1];
			order[k - 1] = t;
		}
	double y = MT - LABEL_GAP;
	for (size_t i = 0; i < n; i++) {
		y = order[i]->want_y > y + LABEL_GAP ? order[i]->want_y : y + LABEL_GAP;
		order[i]->label_y = y;
	}
	/* Ran off the bottom: shift the stack up as far as the top allows. */
	double over = y - (H - 6);
	for (size_t i = 0; over > 0 && i < n; i++)
		order[i]->label_y -= over;
	free(order);
}

static void axes(FILE *out, const struct timeline *tl, int ymax, int ystep)
{
	char a[32];
	int64_t span = tl->t1 - tl->t0;
	int64_t step = nice_step((double)span / 8);
	fprintf(out, "<g class=\"axes\" font-size=\"11\" fill=\"#57606a\">\n");
	for (int v = 0; v <= ymax; v += ystep) {
		double y = ypos(v, ymax);
		fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eaeef2\"/>"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d</text>\n",
			ML, ML + PW, y, y, ML - 6, y + 4, v);
	}
	for (int64_t t = 0; t <= span; t += step) {
		double x = ML + (double)t * PW / (double)span;
		fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#8c959f\"/>"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
			x, x, MT + PH, MT + PH + 5, x, MT + PH + 17,
			t ? fmt_duration(t, a, sizeof(a)) : "0");
		if (step <= 0 || t > INT64_MAX - step)
			break;
	}
	fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#57606a\"/>"
		"<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#57606a\"/>\n",
		ML, ML + PW, MT + PH, MT + PH, ML, ML, MT, MT + PH);
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time since the process's "
		"first bpf event</text>\n", ML + PW / 2, H - 6);
	fprintf(out, "<text transform=\"translate(14,%d) rotate(-90)\" text-anchor=\"middle\">"
		"open bpf FDs</text>\n</g>\n", MT + PH / 2);
}

int svg_timeline(FILE *out, const struct model *m, const struct siteset *ss, const struct proc *p)
{
	struct timeline tl;
	if (!timeline_build(m, ss, p, COLS, &tl)) {
		timeline_free(&tl);
		return 0;
	}
	int ystep = (int)nice_step(tl.ymax / 5.0);
	int ymax = tl.ymax < 1 ? 1 : (tl.ymax + ystep - 1) / ystep * ystep;
	struct drawn *d = xcalloc(tl.n, sizeof(*d));
	size_t n_leak = 0, n_info = 0;
	for (size_t k = 0; k < tl.n; k++) {
		const struct tl_series *s = &tl.s[k];
		d[k].s = s;
		d[k].leak = s->kind == TL_SITE && ss->v[s->site].leak;
		d[k].color = s->kind == TL_OTHER ? "#d0d7de"
			     : s->kind == TL_MORE_SITES ? "#8c959f"
			     : d[k].leak ? leak_colors[n_leak++ % 6] : info_colors[n_info++ % 6];
		d[k].label = series_label(m, ss, s);
	}
	int *base = xcalloc(COLS, sizeof(*base)), *top = xcalloc(COLS, sizeof(*top));
	fprintf(out, "<figure class=\"timeline\">\n<svg class=\"timeline\" data-pid=\"%d\" "
		"xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"role=\"img\" aria-label=\"open bpf FDs of pid %d over time, by call site\" "
		"font-family=\"sans-serif\">\n", p->pid, W, H, W, H, p->pid);
	axes(out, &tl, ymax, ystep);
	for (size_t k = 0; k < tl.n; k++) {
		const struct tl_series *s = &tl.s[k];
		for (size_t c = 0; c < COLS; c++)
			top[c] = base[c] + s->vals[c];
		d[k].want_y = ypos(base[COLS - 1] + s->last / 2.0, ymax);
		if (s->kind == TL_SITE)
			fprintf(out, "<g class=\"series site%s\" data-site=\"%zu\">", d[k].leak ? " leak" : "",
				s->site + 1);
		else
			fprintf(out, "<g class=\"series %s\">", s->kind == TL_OTHER ? "other" : "more");
		fputs("<title>", out);
		esc_html(out, d[k].label);
		fprintf(out, ": at most %d open, %d at the end</title>\n<path d=\"", s->peak, s->last);
		area_path(out, base, top, ymax);
		fprintf(out, "\" fill=\"%s\" fill-opacity=\"%s\" stroke=\"none\"/>\n<path d=\"", d[k].color,
			d[k].leak ? "0.45" : "0.3");
		step_path(out, top, ymax);
		fprintf(out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s/></g>\n", d[k].color,
			d[k].leak ? "3" : "1.5", d[k].leak ? "" : " stroke-dasharray=\"5 3\"");
		memcpy(base, top, COLS * sizeof(*base));
	}
	place_labels(d, tl.n);
	fputs("<g class=\"labels\" font-size=\"11\">\n", out);
	for (size_t k = 0; k < tl.n; k++) {
		fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/>"
			"<text x=\"%d\" y=\"%.1f\" fill=\"%s\"%s>", ML + PW, d[k].want_y, ML + PW + 10,
			d[k].label_y, d[k].color, ML + PW + 14, d[k].label_y + 4,
			d[k].s->kind == TL_OTHER ? "#57606a" : d[k].color,
			d[k].leak ? " font-weight=\"bold\"" : "");
		esc_html(out, d[k].label);
		fputs("</text>\n", out);
	}
	fputs("</g>\n</svg>\n<figcaption><ul class=\"legend\">\n", out);
	for (size_t k = 0; k < tl.n; k++) {
		const struct tl_series *s = &tl.s[k];
		fprintf(out, "<li><span class=\"swatch\" style=\"background:%s\"></span>", d[k].color);
		if (s->kind == TL_SITE)
			fprintf(out, "<a href=\"#site-%zu\">", s->site + 1);
		esc_html(out, d[k].label);
		fprintf(out, "%s: at most %d open, %d at the end</li>\n", s->kind == TL_SITE ? "</a>" : "",
			s->peak, s->last);
	}
	fputs("</ul></figcaption>\n</figure>\n", out);
	for (size_t k = 0; k < tl.n; k++)
		free(d[k].label);
	free(d);
	free(base);
	free(top);
	timeline_free(&tl);
	return 1;
}
