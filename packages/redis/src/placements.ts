/**
 * Where each shard channel was subscribed in a Redis Cluster: the node that owned its
 * slot when the SSUBSCRIBE was sent. A subscription lives on that node only; Redis
 * drops it when the slot leaves the node (resharding, failover) or the connection
 * ends, so a node that ended, or a slot map that now names another owner, tells which
 * subscriptions are gone. Losses are taken out of the map once reported; the channel
 * is recorded again when it is subscribed again.
 */
import { keySlot } from './slot.js';

interface Placement {
  readonly slot: number;
  readonly node: string;
  /** Order of the SSUBSCRIBE: a late reply of an older one never overwrites a newer one. */
  readonly ticket: number;
}

export class Placements {
  private readonly byChannel = new Map<string, Placement>();
  private tickets = 0;

  get size(): number {
    return this.byChannel.size;
  }

  /** Taken when a SSUBSCRIBE is sent, passed to `record` with its reply. */
  ticket(): number {
    this.tickets += 1;
    return this.tickets;
  }

  record(channels: readonly string[], node: string, ticket: number): void {
    for (const channel of channels) {
      const current = this.byChannel.get(channel);
      if (current !== undefined && current.ticket > ticket) continue;
      this.byChannel.set(channel, { slot: current?.slot ?? keySlot(channel), node, ticket });
    }
  }

  has(channel: string): boolean {
    return this.byChannel.has(channel);
  }

  forget(channels: readonly string[]): void {
    for (const channel of channels) this.byChannel.delete(channel);
  }

  /** Removes and returns `channels` (those recorded). */
  take(channels: readonly string[]): string[] {
    return channels.filter((channel) => this.byChannel.delete(channel));
  }

  /** Removes and returns the channels subscribed on `node`. */
  takeOnNode(node: string): string[] {
    const taken: string[] = [];
    for (const [channel, placement] of this.byChannel) {
      if (placement.node !== node) continue;
      this.byChannel.delete(channel);
      taken.push(channel);
    }
    return taken;
  }

  /** Removes and returns the channels whose slot is now owned by another node than the one they were subscribed on. */
  takeMoved(ownerOf: (slot: number) => string | undefined): string[] {
    const taken: string[] = [];
    for (const [channel, placement] of this.byChannel) {
      const owner = ownerOf(placement.slot);
      // An unknown owner (a slot map being re-read) proves nothing yet.
      if (owner === undefined || owner === placement.node) continue;
      this.byChannel.delete(channel);
      taken.push(channel);
    }
    return taken;
  }
}
