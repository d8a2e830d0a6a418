/** Every tool this server offers. Adding a tool: one file in this folder, one line here. */
import { addTool } from './add.js';
import { getTimeTool } from './get-time.js';
import { getUserInfoTool } from './get-user-info.js';
import type { Tool } from './tool.js';

export const TOOLS: readonly Tool[] = [addTool, getTimeTool, getUserInfoTool];
