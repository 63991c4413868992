/**
 * The channel tail: the envelope of each event of one channel, newest first, as the
 * edge sent it. Bounded, so a busy channel cannot grow the page without end.
 */
import type { Frame } from './link.js';
import { element, setText } from './dashboard.js';

const KEEP = 50;

export class Tail {
  channel: string | undefined;

  /** A new channel: the list starts empty. */
  follow(channel: string): void {
    this.channel = channel;
    element('tail').replaceChildren();
    setText('tail-status', `Subscribing to ${channel}...`);
  }

  status(text: string): void {
    setText('tail-status', text);
  }

  add(frame: Frame): void {
    const list = element('tail');
    const item = document.createElement('li');
    item.textContent = JSON.stringify(frame);
    list.prepend(item);
    while (list.childElementCount > KEEP) list.lastElementChild?.remove();
  }
}
