/* Vietnamese text compared without diacritics, as the services do ("nguyen van an" finds
 * "Nguyễn Văn An"): NFD, marks removed, đ/Đ → d, lower case. */
export function fold(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/* Whether every word of query starts a word of text (both folded). */
export function matchesWords(text: string, query: string): boolean {
  const words = fold(text).split(' ');
  return fold(query)
    .split(' ')
    .filter(Boolean)
    .every((q) => words.some((w) => w.startsWith(q)));
}

/* Text a person typed, in the NFC form the services store (TCVN 6909). */
export function nfc(s: string): string {
  return s.normalize('NFC');
}
