#!/usr/bin/env bash
# Test clips for the video pipeline (e2e/media.spec.ts), cut from real
# footage: opencv-doc's vtest.avi (pedestrians, 768×576, 10 fps), transcoded
# with Debian's ffmpeg into .cache/clips/. Each clip is made once; delete the
# folder to remake them. Short on purpose: CI has 2 cores.
#   vp8.webm          640×360 VP8, 8 s, a key frame every 30 frames (3 s GOPs)
#   h264.mp4          640×360 H.264 with B-frames, 8 s, 3 s GOPs
#   irregular-aac.mp4 640×360 H.264 at 25 fps, B-frames, GOPs of 1, 1, 1,
#                     101, 26 and 20 frames (as phones make them), AAC tone
#   vp9-opus.webm     640×360 VP9, 6 s, 2 s GOPs, Opus tone
#   h264-720p.mp4     1280×720 H.264, 3 s
#   camera.y4m        320×180 raw 4:2:0, 10 fps, 6 s: Chromium's fake camera
#                     for e2e/record.spec.ts (--use-file-for-fake-video-capture,
#                     looped), recorded there by a real MediaRecorder
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/clips
mkdir -p "$out"

src=/usr/share/doc/opencv-doc/examples/data/vtest.avi
if [[ ! -f "$src" ]]; then
  if [[ -f "$src.gz" ]]; then
    [[ -f "$out/vtest.avi" ]] || gunzip -c "$src.gz" > "$out/vtest.avi"
    src="$out/vtest.avi"
  else
    echo "test-clips: $src not found (apt-get install opencv-doc)" >&2
    exit 1
  fi
fi
command -v ffmpeg >/dev/null || { echo "test-clips: ffmpeg not found (apt-get install ffmpeg)" >&2; exit 1; }

# 4:3 footage, cropped to 16:9 before scaling; from 10 s in (more people)
crop='crop=768:432,scale=640:360,format=yuv420p'
ff=(ffmpeg -hide_banner -loglevel error -nostdin -y)

make () {
  local name=$1; shift
  [[ -s "$out/$name" ]] && return 0
  echo "test-clips: making $name"
  "${ff[@]}" "$@" "$out/.tmp-$name"
  mv "$out/.tmp-$name" "$out/$name"
}

make vp8.webm -ss 10 -t 8 -i "$src" -vf "$crop" -an \
  -c:v libvpx -b:v 800k -g 30 -keyint_min 30 -auto-alt-ref 0 -deadline good -cpu-used 4

make h264.mp4 -ss 10 -t 8 -i "$src" -vf "$crop" -an \
  -c:v libx264 -preset fast -crf 26 -bf 2 -g 30 -keyint_min 30 -sc_threshold 0 -movflags +faststart

# 25 fps (frames repeated): key frames forced at 0, 1, 2, 3, 104 and 130
make irregular-aac.mp4 -ss 20 -t 6 -i "$src" -f lavfi -i sine=frequency=440:sample_rate=48000:duration=6 \
  -vf "$crop,fps=25" -c:v libx264 -preset fast -crf 26 -bf 2 \
  -x264-params keyint=200:min-keyint=1:scenecut=0 \
  -force_key_frames 'expr:eq(n,0)+eq(n,1)+eq(n,2)+eq(n,3)+eq(n,104)+eq(n,130)' \
  -c:a aac -b:a 96k -shortest -movflags +faststart

make vp9-opus.webm -ss 30 -t 6 -i "$src" -f lavfi -i sine=frequency=660:sample_rate=48000:duration=6 \
  -vf "$crop" -c:v libvpx-vp9 -b:v 600k -g 20 -keyint_min 20 -deadline realtime -cpu-used 8 -row-mt 1 \
  -c:a libopus -b:a 64k -shortest

# as an iPhone writes it: QuickTime, H.264 High with B-frames, AAC, filmed
# upright (frames stored landscape, a 90° display matrix: ffmpeg 5 writes
# the matrix only when it copies the stream)
if [[ ! -s "$out/iphone.mov" ]]; then
  make iphone-stored.mov -ss 50 -t 4 -i "$src" -f lavfi -i sine=frequency=550:sample_rate=44100:duration=4 \
    -vf "$crop" -c:v libx264 -profile:v high -preset fast -crf 26 -bf 2 -g 30 -keyint_min 30 -sc_threshold 0 \
    -c:a aac -b:a 96k -shortest -f mov
  make iphone.mov -i "$out/iphone-stored.mov" -c copy -metadata:s:v:0 rotate=90 -f mov
  rm -f "$out/iphone-stored.mov"
fi

make h264-720p.mp4 -ss 40 -t 3 -i "$src" -vf 'crop=768:432,scale=1280:720,format=yuv420p' -an \
  -c:v libx264 -preset veryfast -crf 28 -bf 2 -g 30 -keyint_min 30 -sc_threshold 0 -movflags +faststart

make camera.y4m -ss 10 -t 6 -i "$src" -vf 'crop=768:432,scale=320:180,format=yuv420p' -an -f yuv4mpegpipe

# Longer clips for bench/video.bench.ts only (FEDRA_BENCH_CLIPS=1; npm run
# bench sets it): the same footage in VP9 for the per-codec table, and 30 s,
# 60 s and 720p clips for the room. The test set above stays as it is.
#   bench-vp9.webm      640×360 VP9, the 8 s of vp8.webm/h264.mp4, 3 s GOPs
#   bench-30s.webm      640×360 VP8, 30 s, 3 s GOPs
#   bench-30s.mp4       the same 30 s in H.264 (moov first: it streams as it arrives)
#   bench-60s.webm      640×360 VP8, 60 s, 3 s GOPs
#   bench-720p-20s.mp4  1280×720 H.264, 20 s, 3 s GOPs
if [[ "${FEDRA_BENCH_CLIPS:-}" == 1 ]]; then
  vp8=(-c:v libvpx -b:v 800k -g 30 -keyint_min 30 -auto-alt-ref 0 -deadline good -cpu-used 4)
  make bench-vp9.webm -ss 10 -t 8 -i "$src" -vf "$crop" -an \
    -c:v libvpx-vp9 -b:v 600k -g 30 -keyint_min 30 -deadline realtime -cpu-used 8 -row-mt 1
  make bench-30s.webm -ss 10 -t 30 -i "$src" -vf "$crop" -an "${vp8[@]}"
  make bench-30s.mp4 -ss 10 -t 30 -i "$src" -vf "$crop" -an \
    -c:v libx264 -preset fast -crf 26 -bf 2 -g 30 -keyint_min 30 -sc_threshold 0 -movflags +faststart
  make bench-60s.webm -ss 10 -t 60 -i "$src" -vf "$crop" -an "${vp8[@]}"
  make bench-720p-20s.mp4 -ss 10 -t 20 -i "$src" -vf 'crop=768:432,scale=1280:720,format=yuv420p' -an \
    -c:v libx264 -preset veryfast -crf 28 -bf 2 -g 30 -keyint_min 30 -sc_threshold 0 -movflags +faststart
fi

echo "test-clips: $(ls "$out" | grep -cv '^vtest') clips in $out"
