# SPDX-License-Identifier: MIT
# The known picture of the VNC lab tests: draw it on an X display, and check
# that a screenshot (vncsnapshot's JPEG) is that picture, so that a blank,
# wrong or shifted screen fails, not only a missing or mis-sized file.
#
#   vncpic.py draw W H        (DISPLAY set) a W x H window at +0+0 with the
#                             picture; prints "ready WxH" (the screen's size)
#                             once it is on the screen, then stays until killed
#   vncpic.py check FILE W H  exit 0 and one line if FILE is the picture at
#                             W x H; else exit 1 and say what differs
#
# Run with Debian's python3 (python3-tk draws, python3-pil decodes the JPEG).
#
# The picture: a 4 x 3 grid of solid cells, twelve colours no two of which
# are closer than 127 in their most different channel. Large solid areas
# survive JPEG (8x8 blocks, halved chroma); the sample patches keep 20 px
# away from every edge, where JPEG rings. Every cell has its own colour, so a
# blank screen, swapped colours or a shift by a cell fail the cell test; a
# smaller shift fails the edge test, which finds each edge between two cells
# to within EDGE_SLACK px.
import sys

COLS, ROWS = 4, 3
COLOURS = [
    ("red", (255, 0, 0)), ("green", (0, 255, 0)), ("blue", (0, 0, 255)), ("white", (255, 255, 255)),
    ("yellow", (255, 255, 0)), ("cyan", (0, 255, 255)), ("magenta", (255, 0, 255)), ("black", (0, 0, 0)),
    ("orange", (255, 128, 0)), ("purple", (128, 0, 255)), ("grey", (128, 128, 128)), ("teal", (0, 128, 128)),
]
TOLERANCE = 48   # per channel, on the mean of a patch: under half the 127 between two colours
PATCH = 8        # sample patches are PATCH x PATCH
INSET = 20       # corner patches start this far inside their cell
EDGE_SLACK = 3   # px an edge may sit from where it was drawn (JPEG blur)
EDGE_REACH = 40  # px scanned on either side of an edge


def cells(w, h):
    """(col, row, x0, y0, x1, y1, name, rgb) for every cell, x1/y1 exclusive."""
    out = []
    for r in range(ROWS):
        for c in range(COLS):
            name, rgb = COLOURS[r * COLS + c]
            out.append((c, r, c * w // COLS, r * h // ROWS, (c + 1) * w // COLS, (r + 1) * h // ROWS, name, rgb))
    return out


def draw(w, h):
    import tkinter
    root = tkinter.Tk()
    # no window manager under Xvfb: override-redirect puts it exactly at +0+0
    root.overrideredirect(True)
    root.geometry("%dx%d+0+0" % (w, h))
    cv = tkinter.Canvas(root, width=w, height=h, highlightthickness=0, borderwidth=0, background="black")
    cv.pack()
    for _, _, x0, y0, x1, y1, _, rgb in cells(w, h):
        cv.create_rectangle(x0, y0, x1, y1, fill="#%02x%02x%02x" % rgb, outline="")
    cv.wait_visibility()
    # update syncs with the X server: the canvas is drawn before we say ready
    root.update_idletasks()
    root.update()
    print("ready %dx%d" % (root.winfo_screenwidth(), root.winfo_screenheight()), flush=True)
    root.mainloop()


def near(a, b):
    return max(abs(x - y) for x, y in zip(a, b)) <= TOLERANCE


def fmt(rgb):
    return "(%d,%d,%d)" % tuple(int(round(v)) for v in rgb)


def check(path, w, h):
    from PIL import Image
    try:
        im = Image.open(path).convert("RGB")
    except OSError as e:
        print("%s: not an image (%s)" % (path, e))
        return 1
    if im.size != (w, h):
        print("%s is %dx%d, want %dx%d" % (path, im.size[0], im.size[1], w, h))
        return 1
    px = im.load()

    def mean(x, y):
        s = [0, 0, 0]
        for j in range(y, y + PATCH):
            for i in range(x, x + PATCH):
                for k in range(3):
                    s[k] += px[i, j][k]
        return [v / (PATCH * PATCH) for v in s]

    bad = []
    badspots = 0
    grid = cells(w, h)
    for c, r, x0, y0, x1, y1, name, rgb in grid:
        spots = [((x0 + x1 - PATCH) // 2, (y0 + y1 - PATCH) // 2, "centre"),
                 (x0 + INSET, y0 + INSET, "top left"), (x1 - INSET - PATCH, y0 + INSET, "top right"),
                 (x0 + INSET, y1 - INSET - PATCH, "bottom left"), (x1 - INSET - PATCH, y1 - INSET - PATCH, "bottom right")]
        for x, y, where in spots:
            got = mean(x, y)
            if not near(got, rgb):
                bad.append("cell %d,%d %s at %d,%d: %s, want %s %s" % (c, r, where, x, y, fmt(got), name, fmt(rgb)))
                badspots += 1

    # Edges: along the middle of two neighbouring cells, the pixels nearer the
    # first cell's colour are counted; where the count ends is where the edge is.
    def edge(a, b, at, line, vertical):
        count = 0
        for d in range(at - EDGE_REACH, at + EDGE_REACH):
            p = px[d, line] if vertical else px[line, d]
            da = sum((p[k] - a[7][k]) ** 2 for k in range(3))
            db = sum((p[k] - b[7][k]) ** 2 for k in range(3))
            count += da < db
        found = at - EDGE_REACH + count
        if abs(found - at) > EDGE_SLACK:
            kind = "vertical" if vertical else "horizontal"
            bad.append("%s edge %s|%s: at %d, want %d" % (kind, a[6], b[6], found, at))

    edges = 0
    for cell in grid:
        c, r = cell[0], cell[1]
        if c + 1 < COLS:
            right = grid[r * COLS + c + 1]
            edge(cell, right, cell[4], (cell[3] + cell[5]) // 2, True)
            edges += 1
        if r + 1 < ROWS:
            below = grid[(r + 1) * COLS + c]
            edge(cell, below, cell[5], (cell[2] + cell[4]) // 2, False)
            edges += 1

    if bad:
        print("%s is not the picture drawn (%d of %d patches, %d of %d edges wrong):"
              % (path, badspots, len(grid) * 5, len(bad) - badspots, edges))
        for line in bad[:12]:
            print("  " + line)
        if len(bad) > 12:
            print("  ...")
        return 1
    print("%dx%d, %d cells x 5 patches within %d of their colour, %d edges within %d px"
          % (w, h, len(grid), TOLERANCE, edges, EDGE_SLACK))
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "draw":
        draw(int(argv[2]), int(argv[3]))
        return 0
    if len(argv) == 5 and argv[1] == "check":
        return check(argv[2], int(argv[3]), int(argv[4]))
    print("usage: vncpic.py draw W H | check FILE W H", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
