/** Byte counts as plan notes and `smelter explain` show them: `512 B`, `1.5 KiB`, `71.0 MiB`, `2.00 GiB`. */
const MiB = 1024 * 1024;

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < MiB) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * MiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${(n / 1024 / MiB).toFixed(2)} GiB`;
}
