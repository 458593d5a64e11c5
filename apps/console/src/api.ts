// The one way the console talks to Spotter: @spotter/client (same origin, the key from this
// tab, Retry-After honoured), with a prompt for the key and every failure turned into a
// sentence a person can act on.
import { createSpotterClient, SpotterApiError } from '@spotter/client';

const KEY_ITEM = 'spotter.apiKey';

/** A failed call, with the sentence the page shows. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string };
}

const sentence = (s: string) => {
  const t = s.trim();
  return t ? t[0]!.toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.') : '';
};

/** What a person reads for an HTTP failure: what happened and what to do, no JSON. */
export function plainMessage(status: number, body: ErrorBody | null, retryAfter: string | null): string {
  const said = body?.error?.message ?? '';
  const wait = retryAfter ? ` Try again in ${retryAfter} s.` : ' Try again shortly.';
  switch (status) {
    case 400:
      return `Spotter did not accept the request: ${said || 'a field is invalid'}.`.replace(/\.\.$/, '.');
    case 401:
      return 'This needs a valid API key.';
    case 403:
      return 'This needs an admin key: the key in use may only submit and read its own jobs.';
    case 404:
      return sentence(said) || 'Not found.';
    case 409:
      return sentence(said) || 'That clashes with the current state.';
    case 413:
      return `The image is too large. ${sentence(said)}`.trim();
    case 415:
      return 'That file is not an image Spotter can read (JPEG, PNG, WebP, GIF, AVIF, HEIF or TIFF).';
    case 422:
      return 'The image could not be decoded: the file may be damaged or truncated.';
    case 429:
      return `Spotter is busy: too many images are waiting, or this key sent too many requests.${wait}`;
    case 503:
      return `Spotter cannot reach its queue, storage or model right now.${wait}`;
    case 504:
      return 'The job did not finish in time; it is still in the queue.';
    default:
      return status >= 500 ? `Spotter had an internal error (HTTP ${status}).` : sentence(said) || `The request failed (HTTP ${status}).`;
  }
}

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_ITEM);
}

let asking: Promise<string> | null = null;

/** Asks for the key in the page's dialog; concurrent 401s share one prompt. */
function askForKey(rejected: boolean): Promise<string> {
  asking ??= new Promise<string>((resolve, reject) => {
    const dialog = document.getElementById('key-dialog') as HTMLDialogElement;
    const input = document.getElementById('key-input') as HTMLInputElement;
    const reason = document.getElementById('key-reason')!;
    reason.textContent = rejected
      ? 'That key was not accepted. Enter a key from SPOTTER_API_KEYS or SPOTTER_ADMIN_KEYS.'
      : 'This Spotter needs an API key. It is kept in this tab only (sessionStorage).';
    input.value = '';
    const done = () => {
      const key = input.value.trim();
      dialog.removeEventListener('close', done);
      asking = null;
      // Escape closes the dialog without a key: the call fails with a sentence instead.
      if (!key) return reject(new ApiError(401, 'UNAUTHORIZED', 'This needs a valid API key: reload the page to enter one.'));
      sessionStorage.setItem(KEY_ITEM, key);
      resolve(key);
    };
    dialog.addEventListener('close', done);
    dialog.showModal();
    input.focus();
  });
  return asking;
}

/** The client every page uses: the page's own origin, the key kept in this tab. */
export const client = createSpotterClient({ url: '', apiKey: storedKey });

/**
 * A call through the client. On a 401 the key is asked for (once; again only if it was
 * refused) and the call repeated; a refusal becomes an ApiError with its sentence.
 */
export async function withKey<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const key = storedKey();
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof SpotterApiError)) throw new ApiError(0, 'NETWORK', 'Cannot reach Spotter: check the connection and that the server is running.');
      if (err.status === 401 && attempt < 5) {
        if (key) sessionStorage.removeItem(KEY_ITEM);
        await askForKey(key !== null);
        continue;
      }
      throw new ApiError(err.status, err.code, plainMessage(err.status, err.body as ErrorBody | null, err.retryAfter));
    }
  }
}

/** fetch() against the API through the client (any route, read as the caller likes). */
export function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  return withKey(() => client.fetch(path, init));
}

/** GET (or another method) returning parsed JSON. */
export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  return (await (await apiFetch(path, init)).json()) as T;
}

/** POST a JSON body. */
export function post<T>(path: string, body: unknown = {}): Promise<T> {
  return api<T>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** The sentence to show for anything thrown. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return `Something went wrong in the page: ${(err as Error)?.message ?? String(err)}`;
}
