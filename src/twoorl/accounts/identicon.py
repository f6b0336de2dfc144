"""Locally generated avatars: a symmetric 5x5 identicon drawn from a hash of the account id,
so showing a face never sends a request to a third party."""

from __future__ import annotations

import colorsys
import hashlib

from markupsafe import escape

GRID = 5
CELL = 16
PADDING = 18  # keeps the pattern inside the circle that pages crop avatars to


def identicon_svg(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    hue = digest[0] / 255
    red, green, blue = colorsys.hls_to_rgb(hue, 0.45, 0.55)
    colour = f"#{int(red * 255):02x}{int(green * 255):02x}{int(blue * 255):02x}"
    size = GRID * CELL + 2 * PADDING
    cells = []
    half = (GRID + 1) // 2
    for row in range(GRID):
        for column in range(half):
            if digest[1 + row * half + column] % 2 == 0:
                continue
            for x in {column, GRID - 1 - column}:
                cells.append(
                    f'<rect x="{PADDING + x * CELL}" y="{PADDING + row * CELL}" '
                    f'width="{CELL}" height="{CELL}"/>'
                )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'width="{size}" height="{size}" role="img" aria-label="{escape(seed)}">'
        f'<rect width="{size}" height="{size}" fill="#f0f2f5"/>'
        f'<g fill="{colour}">{"".join(cells)}</g></svg>'
    )


def gravatar_url(email: str, size: int = 96) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?s={size}&d=identicon"
