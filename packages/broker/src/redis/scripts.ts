/** The broker's Lua scripts (lua.ts), run through @herald/redis's one script runner. */
import { LuaScript } from '@herald/redis';
import { EVENTS_LUA, HISTORY_LUA, PUBLISH_LUA } from './lua.js';

export const PUBLISH_SCRIPT = new LuaScript('publish', PUBLISH_LUA);
export const HISTORY_SCRIPT = new LuaScript('history', HISTORY_LUA);
export const EVENTS_SCRIPT = new LuaScript('events', EVENTS_LUA);
