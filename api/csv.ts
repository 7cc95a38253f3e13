// CSV as RFC 4180 has it: CRLF line ends; a field with a comma, a quote, a line break or surrounding space is
// quoted, its quotes doubled. An absent value is an empty field.

export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(values: readonly (string | number | null | undefined)[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
