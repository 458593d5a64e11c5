import { h } from './dom.js';

/**
 * Drop an image, pick one, or (on a phone) take a photo: `onImage` gets the file. The drop
 * zone is a button too, so the keyboard reaches the file dialog.
 */
export function imagePicker(onImage: (file: File) => void, idPrefix: string): HTMLElement {
  const pick = h('input', { type: 'file', id: `${idPrefix}-file`, accept: 'image/*', class: 'visually-hidden', 'data-role': 'image-file' });
  const camera = h('input', { type: 'file', id: `${idPrefix}-camera`, accept: 'image/*', capture: 'environment', class: 'visually-hidden' });
  for (const input of [pick, camera]) {
    input.addEventListener('change', () => {
      const file = input.files?.[0];
      if (file) onImage(file);
      input.value = '';
    });
  }
  const zone = h(
    'div',
    { class: 'dropzone', 'data-role': 'dropzone' },
    h('p', {}, 'Drop an image here, or'),
    h(
      'div',
      { class: 'pick-buttons' },
      h('label', { for: pick.id, class: 'button primary', tabindex: 0, role: 'button' }, 'Choose an image'),
      h('label', { for: camera.id, class: 'button camera', tabindex: 0, role: 'button' }, 'Take a photo'),
    ),
    pick,
    camera,
  );
  // A label is not keyboard-activatable by itself: Enter or Space opens its file dialog.
  zone.querySelectorAll('label').forEach((label) =>
    label.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        (document.getElementById(label.htmlFor) as HTMLInputElement).click();
      }
    }),
  );
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) onImage(file);
  });
  return zone;
}

/** The last image chosen on Try or Edge, so the other page can run the same picture. */
export const lastImage: { file: File | null } = { file: null };
