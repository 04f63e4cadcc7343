// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * `bpfleak report [-o FILE] ARGS...` and `bpfleak run --report FILE`: the
 * report written to a file whose extension picks the format (.md, .html,
 * .json, .folded; else text), so a staging job leaves a ticket-ready file
 * beside the journal.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "front.h"

/* The format a report file's extension names. */
static const char *format_for(const char *path)
{
	static const struct { const char *ext, *format; } by_ext[] = {
		{ ".md", "markdown" }, { ".markdown", "markdown" }, { ".html", "html" },
		{ ".htm", "html" }, { ".json", "json" }, { ".folded", "folded" },
	};
	size_t n = strlen(path);
	for (size_t i = 0; i < sizeof(by_ext) / sizeof(by_ext[0]); i++) {
		size_t e = strlen(by_ext[i].ext);
		if (n > e && !strcasecmp(path + n - e, by_ext[i].ext))
			return by_ext[i].format;
	}
	return "text";
}

/* Replace this process by bpfleak-report: the one beside bpfleak, else PATH's. */
static void exec_report(char **argv) __attribute__((noreturn));
static void exec_report(char **argv)
{
	char dir[PATH_MAX - 64], path[PATH_MAX];

	self_dir(dir, sizeof(dir));
	if (dir[0]) {
		snprintf(path, sizeof(path), "%s/%s", dir, REPORT_NAME);
		if (is_file(path, X_OK)) {
			execv(path, argv);
			die(EXIT_CANNOT_RUN, "cannot run %s: %s", path, strerror(errno));
		}
	}
	execvp(REPORT_NAME, argv);
	die(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN,
	    "cannot run %s (not beside %s, nor on PATH): %s", REPORT_NAME,
	    dir[0] ? dir : "bpfleak", strerror(errno));
}

/*
 * Run bpfleak-report (argv) with its output going to FILE: written under a
 * temporary name beside FILE, mode 0600 (a report quotes command lines),
 * and renamed into place only when the report is complete (exit 0, 1 or
 * 3), so a failed run leaves neither half a report nor a lost earlier one.
 * Returns the report's exit status; 2 when FILE cannot be written.
 */
static int report_to_file(char **argv, const char *file)
{
	size_t n = strlen(file);
	char *tmp = malloc(n + 8);
	int status, fd;
	pid_t pid;

	if (!tmp)
		die(EXIT_FAIL, "out of memory");
	memcpy(tmp, file, n);
	memcpy(tmp + n, ".XXXXXX", 8);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog, file, strerror(errno));
		free(tmp);
		return 2;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die(EXIT_FAIL, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (dup2(fd, STDOUT_FILENO) < 0)
			_exit(EXIT_FAIL);
		exec_report(argv);
	}
	close(fd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die(EXIT_FAIL, "waitpid: %s", strerror(errno));
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (rc != 0 && rc != 1 && rc != 3) {
		unlink(tmp);
	} else if (rename(tmp, file) != 0) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog, file, strerror(errno));
		unlink(tmp);
		rc = 2;
	}
	free(tmp);
	return rc;
}

void report_after_run(const char *journal, const char *file, bool quiet)
{
	struct stat st;
	char *argv[] = { (char *)REPORT_NAME, (char *)"--format", (char *)format_for(file),
			 (char *)journal, NULL };

	if (stat(journal, &st) != 0) {
		if (!quiet)
			fprintf(stderr, "%s: no journal, so no report written to %s\n", prog, file);
		return;
	}
	int rc = report_to_file(argv, file);
	if (rc == 0 || rc == 1 || rc == 3) {
		if (!quiet)
			fprintf(stderr, "%s: report: %s (%s)\n", prog, file,
				rc == 1 ? "leaks found" : rc == 3 ? "no leak found, but blind spots"
				: "no leak found");
	} else {
		fprintf(stderr, "%s: the report of %s failed (exit status %d): %s not written\n",
			prog, journal, rc, file);
	}
}

/* bpfleak-report's options that take a value in the next argument. */
static bool report_opt_has_value(const char *a)
{
	static const char *const with_value[] = {
		"-f", "-n", "-c", "-p", "-s", "--format", "--top", "--class", "--pid",
		"--suppressions", "--min-age", "--growth-min", "--flush-wait",
	};
	for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++)
		if (!strcmp(a, with_value[i]))
			return true;
	return false;
}

/*
 * `bpfleak report [-o FILE] ARGS...`: bpfleak-report ARGS, to standard
 * output, or to FILE in the format its extension names unless ARGS name
 * one.
 */
int cmd_report(int argc, char **argv)
{
	char **args = calloc((size_t)argc + 3, sizeof(*args));
	const char *file = NULL;
	bool has_format = false, options = true;
	int n = 0;

	if (!args)
		die(EXIT_FAIL, "out of memory");
	args[n++] = (char *)REPORT_NAME;
	args[n++] = NULL;   /* --format and its value go here, if needed */
	args[n++] = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (options && !strcmp(a, "--")) {
			options = false;
		} else if (options && (!strcmp(a, "-o") || !strcmp(a, "--output"))) {
			if (i + 1 >= argc) {
				fprintf(stderr, "%s report: %s needs a file name\n", prog, a);
				return 2;
			}
			file = argv[++i];
			continue;
		} else if (options && !strncmp(a, "--output=", 9)) {
			file = a + 9;
			continue;
		} else if (options && !strncmp(a, "-o", 2)) {
			file = a + 2;
			continue;
		} else if (options && (!strcmp(a, "-f") || !strcmp(a, "--format") ||
				       !strncmp(a, "--format=", 9) || (!strncmp(a, "-f", 2) && a[2]))) {
			has_format = true;
		}
		args[n++] = argv[i];
		if (options && report_opt_has_value(a) && i + 1 < argc)
			args[n++] = argv[++i];
	}
	if (file && !*file) {
		fprintf(stderr, "%s report: -o needs a file name\n", prog);
		return 2;
	}
	if (file && !has_format) {
		args[1] = (char *)"--format";
		args[2] = (char *)format_for(file);
	} else {
		memmove(args + 1, args + 3, (size_t)(n - 3 + 1) * sizeof(*args));
	}
	if (!file)
		exec_report(args);
	int rc = report_to_file(args, file);
	free(args);
	return rc;
}
