#!/usr/bin/env bash
# Render the PNG icons from the SVG sources in icons/src/.
#
#   bash icons/render.sh
#
# Needs rsvg-convert (Debian package librsvg2-bin). The rendered PNGs are
# committed, so this only has to run after changing a source.
#
# Outputs (all RGBA PNG):
#   32x32.png 128x128.png 128x128@2x.png icon.png(512)   app icon for Tauri
#   icon.ico (16-256, Windows) and icon.icns (16-512, macOS)  app icon there
#   tray-<state>.png (32) and tray-<state>-{16,22,24}.png  tray, worst state
#   preview.png   contact sheet: every tray variant at 16/22/24/32 px on a
#                 light and a dark panel, plus an 6x zoom of the 16 px ones
set -euo pipefail
cd "$(dirname "$0")"
for tool in rsvg-convert convert-im6.q16 png2icns; do
  command -v "$tool" >/dev/null || {
    echo "$tool not found: apt-get install librsvg2-bin imagemagick icnsutils" >&2
    exit 1
  }
done

render() { # svg size out
  rsvg-convert --format png --width "$2" --height "$2" --keep-aspect-ratio "$1" --output "$3"
}

render src/app-icon.svg 32 32x32.png
render src/app-icon.svg 128 128x128.png
render src/app-icon.svg 256 128x128@2x.png
render src/app-icon.svg 512 icon.png

# Windows wants one .ico with every size the shell asks for (tauri-build
# refuses a Windows build without it); macOS an .icns. Each size is rendered
# from the SVG, not scaled from another PNG.
sizes=$(mktemp -d)
for px in 16 24 32 48 64 128 256 512; do
  render src/app-icon.svg "$px" "$sizes/$px.png"
done
convert-im6.q16 "$sizes"/{16,24,32,48,64,128,256}.png icon.ico
png2icns icon.icns "$sizes"/{16,32,48,128,256,512}.png >/dev/null
rm -rf "$sizes"

STATES=(normal waiting stale dead)
for s in "${STATES[@]}"; do
  render "src/tray-$s.svg" 32 "tray-$s.png"
  for px in 16 22 24; do
    render "src/tray-$s.svg" "$px" "tray-$s-$px.png"
  done
done

# Contact sheet. The PNGs are embedded as data: URIs so librsvg needs no
# file access; zoomed copies use nearest-neighbour scaling to show pixels.
b64() { base64 -w0 "$1"; }
sheet=$(mktemp --suffix=.svg)
trap 'rm -f "$sheet"' EXIT
W=860
H=450
{
  echo "<svg xmlns='http://www.w3.org/2000/svg' width='$W' height='$H' font-family='DejaVu Sans, sans-serif' font-size='12'>"
  echo "<rect width='$W' height='$H' fill='#ffffff'/>"
  y=10
  for bg in light dark; do
    if [ "$bg" = light ]; then fill='#eceff3'; ink='#1b1d21'; else fill='#202225'; ink='#e6e8ec'; fi
    echo "<rect x='0' y='$y' width='$W' height='150' fill='$fill'/>"
    echo "<text x='10' y='$((y + 18))' fill='$ink' font-weight='bold'>$bg panel</text>"
    col=0
    for s in "${STATES[@]}"; do
      x=$((20 + col * 210))
      echo "<text x='$x' y='$((y + 40))' fill='$ink'>$s</text>"
      ix=$x
      for px in 16 22 24; do
        echo "<image x='$ix' y='$((y + 55))' width='$px' height='$px' href='data:image/png;base64,$(b64 "tray-$s-$px.png")'/>"
        echo "<text x='$ix' y='$((y + 100))' fill='$ink' font-size='10'>$px</text>"
        ix=$((ix + px + 14))
      done
      echo "<image x='$ix' y='$((y + 55))' width='32' height='32' href='data:image/png;base64,$(b64 "tray-$s.png")'/>"
      echo "<text x='$ix' y='$((y + 100))' fill='$ink' font-size='10'>32</text>"
      col=$((col + 1))
    done
    echo "<text x='10' y='$((y + 135))' fill='$ink' font-size='10'>actual size: 16, 22, 24 and 32 px</text>"
    y=$((y + 155))
  done
  echo "<text x='10' y='$((y + 18))' fill='#1b1d21' font-weight='bold'>16 px, zoomed 6x, on light and dark</text>"
  col=0
  for s in "${STATES[@]}"; do
    x=$((10 + col * 212))
    for half in 0 1; do
      if [ $half = 0 ]; then fill='#eceff3'; else fill='#202225'; fi
      hx=$((x + half * 104))
      echo "<rect x='$hx' y='$((y + 26))' width='104' height='104' fill='$fill'/>"
      echo "<image x='$((hx + 4))' y='$((y + 30))' width='96' height='96' image-rendering='optimizeSpeed' style='image-rendering:pixelated' href='data:image/png;base64,$(b64 "tray-$s-16.png")'/>"
    done
    col=$((col + 1))
  done
  echo "</svg>"
} >"$sheet"
rsvg-convert --format png "$sheet" --output preview.png
echo "rendered: $(ls -1 ./*.png | wc -l) PNGs"
