/** Every resource this server offers. Adding one: one file in this folder, one line here. */
import type { Resource } from './resource.js';
import { serverDescriptionResource } from './server-description.js';

export const RESOURCES: readonly Resource[] = [serverDescriptionResource];
