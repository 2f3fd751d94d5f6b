/**
 * Ready-made {@link LiveFeed} adapters for dry-run and live runs: replay a history provider,
 * poll a data fetcher, follow a websocket, or consume a topic. See docs/live-feeds.md.
 * @module
 */
export type { LiveFeed, LiveFeedHandle, LiveFeedStart } from '../live-feed.js';
export { ReplayFeed, type ReplayFeedOptions } from './replay-feed.js';
export { PollingFeed, type PollingFeedOptions } from './polling-feed.js';
export { WebSocketFeed, type WebSocketFeedOptions, type WebSocketMessageParser } from './websocket-feed.js';
export { TopicFeed, messageRow, type TopicFeedOptions } from './topic-feed.js';
