// Number formatting into a caller's buffer, with no allocation. Pure: tested on the host.

const HEX_DIGITS = "0123456789abcdef";

/** Writes `value` in decimal at `out` (at most 20 bytes); returns the number of bytes. */
export function formatDecimal(value: u64, out: usize): u32 {
  let digits: u32 = 1;
  let bound: u64 = 10;
  while (digits < 20 && value >= bound) { digits++; bound *= 10; }
  let v = value;
  for (let i = digits; i > 0; i--) {
    store<u8>(out + i - 1, <u8>(48 + <u32>(v % 10)));
    v /= 10;
  }
  return digits;
}

/** Writes `value` in hex, zero-padded to `minDigits` (1..16), at `out`; returns the length. */
export function formatHex(value: u64, minDigits: u32, out: usize): u32 {
  let digits: u32 = 1;
  while (digits < 16 && (value >> (<u64>digits * 4)) != 0) digits++;
  if (digits < minDigits) digits = min(minDigits, 16);
  for (let i: u32 = 0; i < digits; i++) {
    const nibble = <i32>((value >> (<u64>(digits - 1 - i) * 4)) & 0xF);
    store<u8>(out + i, <u8>HEX_DIGITS.charCodeAt(nibble));
  }
  return digits;
}

/** Writes `numerator / denominator` with two decimals ("12.50"); returns the length. */
export function formatFixed2(numerator: u64, denominator: u64, out: usize): u32 {
  if (denominator == 0) { store<u8>(out, 48); return 1; }
  const hundredths = (numerator * 100 + denominator / 2) / denominator;
  let n = formatDecimal(hundredths / 100, out);
  store<u8>(out + n, 46); // '.'
  const frac = <u32>(hundredths % 100);
  store<u8>(out + n + 1, <u8>(48 + frac / 10));
  store<u8>(out + n + 2, <u8>(48 + frac % 10));
  return n + 3;
}

/** Copies `count` characters of `text` from index `from` (ASCII) to `out`; returns `count`. */
export function formatAscii(text: string, from: i32, count: i32, out: usize): u32 {
  for (let i = 0; i < count; i++) store<u8>(out + i, <u8>text.charCodeAt(from + i));
  return <u32>count;
}
