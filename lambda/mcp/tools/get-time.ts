import * as z from 'zod/mini';
import { defineTool, ToolError } from './tool.js';

// Building an Intl formatter costs far more than using one; zones repeat, so keep a few.
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 64;

/** How many formatters are kept now (at most {@link MAX_FORMATTERS}). */
export function formatterCacheSize(): number {
  return formatters.size;
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-CA', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        timeZoneName: 'longOffset',
      });
    } catch {
      throw new ToolError(
        `Unknown time zone "${timeZone}": use an IANA name such as "Europe/Paris" or "UTC".`,
      );
    }
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** `2026-01-02T03:04:05+01:00`-style local time, from the formatter's parts. */
function localIso(formatter: Intl.DateTimeFormat, date: Date): string {
  const p = Object.fromEntries(formatter.formatToParts(date).map((part) => [part.type, part.value]));
  const offset = p.timeZoneName === 'GMT' ? '+00:00' : (p.timeZoneName ?? '').replace(/^GMT/, '');
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${offset}`;
}

/** The current time in UTC and, optionally, in an IANA time zone. */
export const getTimeTool = defineTool({
  name: 'get_time',
  title: 'Current time',
  description:
    'Returns the current time in UTC and in an optional IANA time zone (for example "Europe/Paris").',
  inputSchema: z.strictObject({ timeZone: z.optional(z.string().check(z.minLength(1), z.maxLength(64))) }),
  outputSchema: z.object({ utc: z.string(), timeZone: z.string(), local: z.string() }),
  requiredScopes: ['mcp:tools'],
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: ({ timeZone = 'UTC' }, { now }) => {
    const formatter = formatterFor(timeZone);
    const date = new Date(now());
    const result = {
      utc: date.toISOString(),
      timeZone,
      local: localIso(formatter, date),
    };
    return {
      content: [{ type: 'text', text: `${result.local} (${result.timeZone})` }],
      structuredContent: result,
    };
  },
});
