/*
 * The site httpd serves: generated at build time from a directory
 * (services/httpd/www/ by default; `scons service=httpd www=PATH`) into
 * these tables, in C, and the bodies, which the assembler takes from the
 * files (.incbin) into the image's rodata, so they go from there to the
 * NIC with no copy (site_scons/limpet_site.py).
 *
 * Every regular file becomes one entry; its path is the URL path ("/",
 * then the path relative to the root, '/'-separated, as stored on disk,
 * not percent-encoded).  Entries are sorted by strcmp() of path, for
 * binary search.  Directories are listed separately (without a trailing
 * slash; the root is "/"), also sorted, so "/docs" can be redirected to
 * "/docs/" and "/docs/" served from "/docs/index.html".
 */
#ifndef HTTPD_CONTENT_H
#define HTTPD_CONTENT_H

#include <stdint.h>

struct httpd_file {
	const char	*path;		/* "/index.html" */
	const uint8_t	*data;
	uint32_t	size;
	/* A gzip (RFC 1952) variant, only when it is smaller; else NULL/0. */
	const uint8_t	*gz_data;
	uint32_t	gz_size;
	const char	*mime;		/* Content-Type value, e.g. "text/html; charset=utf-8" */
	const char	*etag;		/* strong validator, quotes included: "\"9f2c...\"" */
	const char	*gz_etag;	/* the gzip variant's own ETag, or NULL */
	int64_t		mtime;		/* seconds since the epoch, UTC */
	const char	*last_modified;	/* mtime as an IMF-fixdate (RFC 9110 5.6.7) */
};

extern const struct httpd_file httpd_files[];
extern const unsigned httpd_nfiles;
extern const char *const httpd_dirs[];
extern const unsigned httpd_ndirs;

#endif
