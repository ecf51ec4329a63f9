// The console's one way to the backend: same-origin fetches to /console/api with the session cookie, the CSRF
// token on every unsafe request, and errors turned into ApiError (the API's OpenAI-shaped body).
// Nothing here is ever written to localStorage or sessionStorage: the session lives in an HttpOnly cookie.

export const API_ROOT = '/console/api'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message)
  }
}

let csrfToken: string | null = null

export function setCsrfToken(token: string | null): void {
  csrfToken = token
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export interface RequestOptions {
  body?: unknown
  headers?: Record<string, string>
  query?: Record<string, string | number | undefined | null>
}

export function apiUrl(path: string, query?: RequestOptions['query']): string {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value))
  }
  const search = params.toString()
  return `${API_ROOT}${path}${search ? `?${search}` : ''}`
}

async function errorOf(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`
  let code: string | null = null
  let param: string | null = null
  try {
    const body = await response.json()
    if (body && typeof body === 'object' && body.error) {
      message = body.error.message ?? message
      code = body.error.code ?? null
      param = body.error.param ?? null
    } else if (body && typeof body.message === 'string') {
      message = body.message
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, message, code, param)
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers }
  let body: string | undefined
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken
  const response = await fetch(apiUrl(path, options.query), {
    method,
    headers,
    body,
    credentials: 'same-origin',
    cache: 'no-store',
  })
  if (!response.ok) throw await errorOf(response)
  if (response.status === 204) return undefined as T
  const text = await response.text()
  return (text ? JSON.parse(text) : undefined) as T
}

export const api = {
  get: <T>(path: string, query?: RequestOptions['query']) => request<T>('GET', path, { query }),
  post: <T>(path: string, body?: unknown, headers?: Record<string, string>) =>
    request<T>('POST', path, { body: body ?? {}, headers }),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, { body }),
  del: <T>(path: string) => request<T>('DELETE', path),
}

/** The bytes of a file, sent to S3 with the presigned POST `POST /v1/uploads` answered (fields first, file last). */
export async function postToS3(target: { url: string; fields: Record<string, string> }, file: Blob): Promise<void> {
  const form = new FormData()
  for (const [name, value] of Object.entries(target.fields)) form.append(name, value)
  form.append('file', file)
  const response = await fetch(target.url, { method: 'POST', body: form, credentials: 'omit' })
  if (!response.ok) {
    const text = await response.text()
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? null
    const message = /<Message>([^<]+)<\/Message>/.exec(text)?.[1] ?? `S3 answered ${response.status}`
    throw new ApiError(response.status, message, code)
  }
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.code ? `${error.message} (${error.code})` : error.message
  if (error instanceof Error) return error.message
  return String(error)
}
