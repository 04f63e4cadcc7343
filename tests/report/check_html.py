"""Check an HTML report (docs/report.md, "HTML output") and what Chromium made of it.

usage: check_html.py page REPORT.html REPORT.json
       check_html.py dom DOM.html
       check_html.py png SHOT.png [--leak-area]

page: the page is self-contained (no script, no element or style that
      loads anything), under 1 MB, and has one <svg class="timeline"> per
      process with FDs at a call site, holding one series per call site
      with FDs in that process (sites from the JSON report of the same
      journal), the leaking ones marked "leak".
dom:  the DOM Chromium built holds no script, img, iframe or object
      element: whatever the journal's strings held stayed text.
png:  the screenshot is not blank (at least 2% of its pixels are not
      white); with --leak-area, at least 500 pixels have the colour of the
      first leaking series' area (#cf222e at 45% over white), so the
      timeline was drawn.

The PNG is read with zlib from the standard library (8-bit RGB or RGBA,
not interlaced: what Chromium writes).  Exit 0 when it holds, 1 (with
the reasons) when it does not.
"""
import html.parser
import json
import os
import struct
import sys
import zlib

problems = []


def bad(msg):
    problems.append(msg)


class Page(html.parser.HTMLParser):
    LOADERS = {"script", "img", "iframe", "object", "embed", "link", "audio", "video",
               "source", "image", "use", "foreignobject"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.svgs = {}          # pid -> [(site, leak)]
        self.svg = None
        self.elements = []      # tags that load or run something
        self.style = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in self.LOADERS:
            self.elements.append(tag)
        for k, v in attrs:
            if k in ("src", "srcset", "xlink:href") or k.startswith("on"):
                self.elements.append("%s[%s]" % (tag, k))
            if k == "href" and v and not v.startswith("#"):
                self.elements.append("%s[href=%s]" % (tag, v))
            if k == "style" and v and "url(" in v:
                self.elements.append("%s[style url()]" % tag)
        if tag == "style":
            self.in_style = True
        if tag == "svg" and "timeline" in (a.get("class") or "").split():
            self.svg = int(a["data-pid"])
            if self.svg in self.svgs:
                bad("two timelines for pid %d" % self.svg)
            self.svgs[self.svg] = []
        classes = (a.get("class") or "").split()
        if self.svg is not None and tag == "g" and "series" in classes and "site" in classes:
            self.svgs[self.svg].append((int(a["data-site"]), "leak" in classes))

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg = None
        if tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            self.style.append(data)


def check_page(html_path, json_path):
    size = os.path.getsize(html_path)
    if size >= 1 << 20:
        bad("%s is %d bytes, not under 1 MB" % (html_path, size))
    with open(html_path, encoding="utf-8", errors="replace") as fh:
        page = Page()
        page.feed(fh.read())
    with open(json_path) as fh:
        doc = json.load(fh)
    if page.elements:
        bad("elements or attributes that load or run something: %r" % page.elements)
    style = "".join(page.style)
    for word in ("url(", "@import", "@font-face"):
        if word in style:
            bad("the style sheet has %s" % word)
    want = {}
    for s in doc["sites"]:
        for pid in s["pids"]:
            want.setdefault(pid, []).append((s["site"], s["leak"]))
    for pid, sites in sorted(want.items()):
        got = page.svgs.get(pid)
        print("pid %d: sites %r, series %r" % (pid, sites, got))
        if got is None:
            bad("no timeline for pid %d, which has FDs at sites %r" % (pid, sites))
        elif sorted(got) != sorted(sites):
            bad("pid %d: series (site, leak) %r, expected one per site %r" % (pid, got, sites))
    for pid in page.svgs:
        if pid not in want:
            bad("a timeline for pid %d, which has no FD at any site" % pid)


def check_dom(path):
    with open(path, encoding="utf-8", errors="replace") as fh:
        page = Page()
        page.feed(fh.read())
    if page.elements:
        bad("the browser's DOM has elements or attributes that load or run something: %r"
            % page.elements)
    if not page.svgs:
        bad("the browser's DOM has no timeline")


def read_png(path):
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError("unsupported PNG: depth %d, colour type %d, interlace %d"
                                 % (depth, ctype, interlace))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if width is None:
        raise ValueError("no IHDR")
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        off = y * (stride + 1)
        ftype, line = raw[off], bytearray(raw[off + 1:off + 1 + stride])
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xff
        elif ftype == 2:
            line = bytearray((a + b) & 0xff for a, b in zip(line, prev))
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xff
        elif ftype == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xff
        elif ftype != 0:
            raise ValueError("bad filter type %d" % ftype)
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def check_png(path, leak_area):
    try:
        width, height, bpp, rows = read_png(path)
    except (ValueError, zlib.error, struct.error) as e:
        bad("%s: %s" % (path, e))
        return
    ink = fill = 0
    want = (233, 156, 162)   # #cf222e at fill-opacity 0.45 over white
    for line in rows:
        for i in range(0, len(line), bpp):
            r, g, b = line[i], line[i + 1], line[i + 2]
            if r < 245 or g < 245 or b < 245:
                ink += 1
                if abs(r - want[0]) <= 4 and abs(g - want[1]) <= 4 and abs(b - want[2]) <= 4:
                    fill += 1
    total = width * height
    print("%s: %dx%d, %d pixels not white (%.1f%%), %d of the leak area's colour"
          % (path, width, height, ink, 100.0 * ink / total, fill))
    if ink < total * 0.02:
        bad("%s is blank: %d of %d pixels are not white" % (path, ink, total))
    if leak_area and fill < 500:
        bad("%s: no leaking series drawn (%d pixels of its colour)" % (path, fill))


def main(argv):
    if len(argv) >= 4 and argv[1] == "page":
        check_page(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "dom":
        check_dom(argv[2])
    elif len(argv) >= 3 and argv[1] == "png":
        check_png(argv[2], "--leak-area" in argv[3:])
    else:
        print(__doc__)
        return 2
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
