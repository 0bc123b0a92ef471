// How every page script writes a date, a time or a number: as the server's templates do
// (dd/mm/yyyy, 24-hour HH:mm, decimal comma), in the facility's zone that the server puts on
// <body data-time-zone>. Never the browser's zone: a specialist abroad still reads station time.
const zone = document.body.dataset.timeZone || "Asia/Ho_Chi_Minh";
const dayFormat = new Intl.DateTimeFormat("vi-VN", { timeZone: zone, day: "2-digit", month: "2-digit", year: "numeric" });
const timeFormat = new Intl.DateTimeFormat("vi-VN", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const numberFormats = new Map();

const toDate = (value) => (value instanceof Date ? value : new Date(value));

// Intl may join the parts with other separators in other runtimes: build them from the parts.
function joined(format, value, order, sep) {
  const parts = Object.fromEntries(format.formatToParts(toDate(value)).map((p) => [p.type, p.value]));
  return order.map((type) => parts[type]).join(sep);
}

export const day = (value) => (value ? joined(dayFormat, value, ["day", "month", "year"], "/") : "");
export const time = (value) => (value ? joined(timeFormat, value, ["hour", "minute"], ":") : "");
export const dateTime = (value) => (value ? `${day(value)} ${time(value)}` : "");

export function number(value, digits = 0) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  if (!numberFormats.has(digits)) {
    numberFormats.set(digits, new Intl.NumberFormat("vi-VN", { minimumFractionDigits: digits, maximumFractionDigits: digits }));
  }
  return numberFormats.get(digits).format(value);
}
