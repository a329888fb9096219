#!/usr/bin/python3
"""Checks of a `neurodyn report` page (tests/report.sh).

  report_check.py page PAGE.html [MIN_FIGURES]  every inline <svg> is well-formed XML (xml.etree; xmllint too when
                                                installed), at least MIN_FIGURES figures, and nothing external:
                                                no http:, https:, //, src=, href=, @import, url(, <script, <link,
                                                <iframe, <img, <object, <embed, on...= handlers
  report_check.py png SHOT.png                  the screenshot is not blank: many distinct colours and a
                                                non-white fraction well above zero (PNG decoded here with zlib)
"""
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib


def svgs(text):
    """the top-level <svg>...</svg> blocks (nested <svg> elements are part of their parent)"""
    out, i = [], 0
    tag = re.compile(r"<(/?)svg\b")
    while True:
        m = tag.search(text, i)
        if not m:
            return out
        if m.group(1):
            raise SystemExit("FAIL: </svg> without an opening <svg> at offset %d" % m.start())
        depth, j = 1, m.end()
        while depth:
            n = tag.search(text, j)
            if not n:
                raise SystemExit("FAIL: unclosed <svg> at offset %d" % m.start())
            depth += -1 if n.group(1) else 1
            j = n.end()
        end = text.index(">", j) + 1
        out.append(text[m.start():end])
        i = end


def check_page(path, min_figs):
    text = open(path, encoding="utf-8").read()
    blocks = svgs(text)
    if len(blocks) < min_figs:
        raise SystemExit("FAIL: %d inline SVG figures, expected at least %d" % (len(blocks), min_figs))
    xmllint = shutil.which("xmllint")
    for k, b in enumerate(blocks):
        try:
            ET.fromstring(b)
        except ET.ParseError as e:
            raise SystemExit("FAIL: SVG %d is not well-formed XML: %s" % (k + 1, e))
        if xmllint:
            with tempfile.NamedTemporaryFile("w", suffix=".svg", delete=False) as f:
                f.write(b)
            r = subprocess.run([xmllint, "--noout", f.name], capture_output=True, text=True)
            if r.returncode != 0:
                raise SystemExit("FAIL: xmllint: SVG %d: %s" % (k + 1, r.stderr.strip()[:300]))
    low = text.lower()
    for bad in ["http:", "https:", "//", "src=", "href=", "@import", "url(", "<script", "<link", "<iframe", "<img",
                "<object", "<embed", "<base", "<meta http-equiv"]:
        if bad in low:
            i = low.index(bad)
            raise SystemExit("FAIL: the page references something external: %r in ...%s..." % (bad, text[max(0, i - 60):i + 60]))
    if re.search(r"\son[a-z]+\s*=", low):
        raise SystemExit("FAIL: the page has an event handler attribute (script)")
    if not (text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")):
        raise SystemExit("FAIL: not a complete HTML document")
    print("ok: %d well-formed inline SVG figures%s, nothing external" % (len(blocks), " (xmllint too)" if xmllint else ""))


def png_pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit("FAIL: %s is not a PNG" % path)
    i, idat, w = 8, b"", 0
    while i < len(data):
        n, typ = struct.unpack(">I4s", data[i:i + 8])
        body = data[i + 8:i + 8 + n]
        if typ == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise SystemExit("FAIL: PNG type %d depth %d interlace %d not handled" % (ctype, depth, interlace))
            bpp = 3 if ctype == 2 else 4
        elif typ == b"IDAT":
            idat += body
        i += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    p = 0
    for _ in range(h):
        ft = raw[p]
        line = bytearray(raw[p + 1:p + 1 + stride])
        p += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ft == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def check_png(path):
    try:  # PIL when installed (fast); else the zlib decoder above
        from PIL import Image
        im = Image.open(path).convert("RGB")
        w, h, bpp = im.size[0], im.size[1], 3
        flat = im.tobytes()
        rows = [flat[y * w * 3:(y + 1) * w * 3] for y in range(h)]
    except ImportError:
        w, h, bpp, rows = png_pixels(path)
    colours, nonwhite, total = set(), 0, 0
    for r in rows[::2]:
        for x in range(0, w * bpp, bpp * 2):
            px = r[x:x + 3]
            colours.add(px)
            total += 1
            if px != b"\xff\xff\xff":
                nonwhite += 1
    frac = nonwhite / max(total, 1)
    if len(colours) < 50 or frac < 0.02:
        raise SystemExit("FAIL: the screenshot looks blank: %d distinct colours, %.4f non-white" % (len(colours), frac))
    print("ok: screenshot %dx%d, %d distinct colours, %.1f%% non-white" % (w, h, len(colours), 100 * frac))


if __name__ == "__main__":
    if sys.argv[1] == "page":
        check_page(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    elif sys.argv[1] == "png":
        check_png(sys.argv[2])
    else:
        raise SystemExit("usage: report_check.py page PAGE.html [MIN] | png SHOT.png")
