/** DOM helpers shared by the viewer app's modules. */

export const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

export const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(3));

export const el = (tag: string, className: string, text?: string): HTMLElement => {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
};
