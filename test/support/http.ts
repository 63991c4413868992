/** Plain HTTP requests for the black-box tests: status, media type and parsed body. */
export interface HttpResult {
  status: number;
  contentType: string | null;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or the text when it is not JSON. */
  body: any;
}

export async function httpGet(url: string, init: RequestInit = {}): Promise<HttpResult> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, contentType: response.headers.get('content-type'), headers: response.headers, text, body };
}

/** The media type of a Content-Type header without parameters, lower-cased. */
export function mediaTypeOf(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}
