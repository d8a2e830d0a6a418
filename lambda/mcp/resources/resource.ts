/** What a resource is: a fixed URI, a description, the scopes to read it, and its contents. */
import type { ReadResourceResult, Resource as ResourceDescriptor } from '@modelcontextprotocol/server';
import type { Config } from '../../shared/config.js';
import type { Caller } from '../auth/caller.js';

export interface ResourceContext {
  caller: Caller;
  config: Config;
}

export interface Resource {
  readonly descriptor: ResourceDescriptor;
  readonly requiredScopes: readonly string[];
  read(context: ResourceContext): ReadResourceResult | Promise<ReadResourceResult>;
}
