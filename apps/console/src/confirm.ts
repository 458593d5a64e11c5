/** Asks the page's confirmation dialog; resolves true only on "Confirm". */
export function confirmAction(title: string, text: string, confirmLabel: string): Promise<boolean> {
  const dialog = document.getElementById('confirm-dialog') as HTMLDialogElement;
  document.getElementById('confirm-title')!.textContent = title;
  document.getElementById('confirm-text')!.textContent = text;
  document.getElementById('confirm-ok')!.textContent = confirmLabel;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true }));
}
