import { isFinal, type VideoCounts, type VideoView } from '@spotter/shared';
import { api, apiFetch, messageOf } from '../api.js';
import { countsChart } from '../charts.js';
import { errorBox, h, liveRegion, replace, table } from '../dom.js';
import type { Page } from '../page.js';

/** Videos: upload a clip (#/videos), then follow it to its annotated clip and counts (#/videos/<id>). */
export const videosPage: Page = (root, [id]) => {
  const controller = new AbortController();
  const stops: (() => void)[] = [() => controller.abort()];
  if (id) follow(root, id, controller.signal, stops);
  else uploadForm(root);
  return () => stops.forEach((s) => s());
};

function uploadForm(root: HTMLElement) {
  const status = liveRegion();
  const file = h('input', { type: 'file', id: 'video-file', name: 'video', accept: 'video/*,.mkv,.avi,.ts', required: true, 'data-role': 'video-file' });
  const fps = h('input', { type: 'number', id: 'video-fps', name: 'fps', min: 0.1, max: 60, step: 'any', value: 10 });
  const form = h(
    'form',
    { class: 'video-form' },
    h('label', { for: file.id }, 'Clip (MP4, MOV, Matroska, WebM, AVI, MPEG-TS…)'),
    file,
    h('label', { for: fps.id }, 'Frames per second to sample'),
    fps,
    h('button', { type: 'submit', class: 'primary' }, 'Upload and track'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const clip = file.files?.[0];
    if (!clip) return;
    const body = new FormData();
    body.append('fps', fps.value);
    body.append('video', clip, clip.name);
    status.textContent = `Uploading ${clip.name}…`;
    try {
      const created = await api<VideoView>('/v1/videos', { method: 'POST', body });
      location.hash = `#/videos/${created.id}`;
    } catch (err) {
      status.textContent = '';
      status.after(errorBox(messageOf(err)));
    }
  });
  replace(root, h('h1', {}, 'Videos'), h('p', { class: 'lead' }, 'Upload a clip: the workers split it into segments, detect and track objects through it, and draw the tracks into an annotated clip.'), form, status);
}

/** Polls the video until it is final, showing its progress; then the annotated clip, the counts chart and the tracks. */
async function follow(root: HTMLElement, id: string, signal: AbortSignal, stops: (() => void)[]) {
  const status = liveRegion();
  const bar = h('progress', { max: 1, value: 0, 'aria-label': 'Frames done' });
  const result = h('div', { class: 'result' });
  replace(root, h('h1', {}, 'Video'), h('p', {}, h('a', { href: '#/videos' }, 'Upload another clip')), status, bar, result);
  try {
    let video = await api<VideoView>(`/v1/videos/${encodeURIComponent(id)}`, { signal });
    while (!isFinal(video.status)) {
      const p = video.progress;
      bar.value = p.share;
      status.textContent = `${video.status}: ${p.frames_done} of ${p.frames_total} frames, ${p.segments_done} of ${p.segments_total} segments done, ${p.segments_running} running.`;
      await new Promise((r) => setTimeout(r, 1000));
      if (signal.aborted) return;
      video = await api<VideoView>(`/v1/videos/${encodeURIComponent(id)}`, { signal });
    }
    bar.value = 1;
    root.dataset.videoStatus = video.status;
    if (video.status !== 'succeeded' || !video.summary) {
      status.textContent = '';
      return replace(result, errorBox(`The video ${video.status}: ${video.error?.message ?? 'no reason given'}.`));
    }
    const s = video.summary;
    status.textContent = `Done: ${s.frames} frames, ${s.tracks} tracks, ${s.realtime_factor ?? '-'}× realtime.`;
    const chart = h('div', { class: 'chart', 'data-role': 'counts-chart' });
    const player = s.annotated ? h('video', { controls: true, muted: true, playsinline: true, 'data-role': 'annotated', width: Math.min(960, video.video.width) }) : h('p', {}, 'The annotated clip could not be made (see the worker log).');
    replace(
      result,
      player,
      chart,
      table('Tracks by class', ['class', 'tracks'], Object.entries(s.tracks_by_class).map(([k, n]) => [k, n])),
      h('p', {}, 'Results: ', ...(['detections', 'tracks', 'counts', 'events'] as const).flatMap((k, i) => [i ? ' · ' : '', h('code', {}, `GET ${video.links[k]}`)])),
    );
    // The clip and counts come with the key, so as a blob: an <video src> could not send it.
    if (player instanceof HTMLVideoElement) {
      const url = URL.createObjectURL(await (await apiFetch(`/v1/videos/${encodeURIComponent(id)}/annotated`, { signal })).blob());
      stops.push(() => URL.revokeObjectURL(url));
      player.src = url;
    }
    const counts = await api<VideoCounts>(`/v1/videos/${encodeURIComponent(id)}/counts`, { signal });
    stops.push(countsChart(chart, counts.times, counts.classes));
  } catch (err) {
    if (signal.aborted) return;
    status.textContent = '';
    replace(result, errorBox(messageOf(err)));
  }
}
