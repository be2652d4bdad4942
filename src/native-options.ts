/** The options a native meter is opened with, from the parsed ones: every option src/option-table.ts
 * marks `native`, each always given, so the addon never falls back on a default of its own. */
import { NativeOpenOptions } from './native';
import { defaultOf, longFlag, OPTIONS } from './option-table';
import { MeterOptions } from './options';

type NativeMeterOptions = Omit<NativeOpenOptions, 'files'>;

export function nativeMeterOptions(o: MeterOptions & { promisc?: boolean; bufferBytes?: number }): Partial<NativeMeterOptions> {
  const out: Record<string, unknown> = {};
  const parsed = o as unknown as Record<string, unknown>;
  for (const spec of OPTIONS) {
    if (!spec.native) continue;
    const value = parsed[spec.parsed ?? spec.native];
    // a choice travels as its index in the table's list (the addon's enums follow that order)
    out[spec.native] = spec.kind === 'choice' ? spec.choices?.indexOf(String((value as string | undefined) ?? defaultOf(longFlag(spec)))) : value;
  }
  return out;
}
