/**
 * The test-publish form: POST /v1/events on the ingest (this origin, or the one the
 * edge names in CONSOLE_INGEST_URL), with the sign-in token or a credential typed here
 * (an INGEST_API_KEYS key, or a token with the scope events:publish). The ingest
 * decides; the answer is shown as it came.
 */
import { element, setText } from './dashboard.js';

export function setUpPublishForm(ingestUrl: string, token: () => string | undefined): void {
  const body = element('publish-body') as HTMLTextAreaElement;
  if (body.value.trim() === '') body.value = sampleEvent();
  element('publish-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = (element('publish-key') as HTMLInputElement).value.trim();
    const credential = key !== '' ? key : token();
    setText('publish-result', 'Publishing...');
    void publish(ingestUrl, body.value, credential).then((result) => {
      setText('publish-result', result.text);
      if (result.accepted) body.value = sampleEvent();
    });
  });
}

async function publish(ingestUrl: string, text: string, credential: string | undefined): Promise<{ accepted: boolean; text: string }> {
  try {
    const response = await fetch(`${ingestUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(credential === undefined ? {} : { authorization: `Bearer ${credential}` }) },
      body: text,
    });
    const answer = await response.text();
    return { accepted: response.status === 202, text: `${response.status} ${answer}` };
  } catch (error) {
    return { accepted: false, text: `Not sent: ${(error as Error).message} (is the ingest at ${ingestUrl === '' ? 'this origin' : ingestUrl} reachable, and does it allow this origin in CONSOLE_ORIGINS?)` };
  }
}

/** A valid payment.created for the merchant m_console, with fresh ids. */
function sampleEvent(): string {
  const suffix = Math.random().toString(36).slice(2, 10);
  const event = {
    type: 'payment.created',
    data: { payment_id: `pay_${suffix}`, order_id: `order_${suffix}`, merchant_id: 'm_console', amount: 1000, currency: 'EUR', status: 'pending' },
  };
  return JSON.stringify(event, null, 2);
}
