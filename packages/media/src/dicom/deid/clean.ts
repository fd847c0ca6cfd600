// "C" (clean) for free-text descriptors: a deliberately simple, conservative cleaner.
//
// A value is split into whitespace-separated tokens and every token that looks like an
// identifier is dropped: a run of 5 or more digits (record numbers, accession numbers, dates
// written as 20240131, phone numbers), a date-like token (31.01.2024, 2024-01-31, 1/31/24), an
// e-mail address or URL, or a DICOM person-name form (contains '^'). What remains is kept; an
// empty result becomes a zero-length value. Names written as ordinary words are NOT detected,
// which is why Clean Descriptors is an opt-in project setting.

const DROP = [/\d{5,}/, /\d{1,4}[./-]\d{1,2}[./-]\d{1,4}/, /@/, /^[a-z]+:\/\//i, /\^/];

export function cleanText(value: string): string {
  return value
    .split(/\s+/)
    .filter((t) => t !== '' && !DROP.some((re) => re.test(t)))
    .join(' ');
}
