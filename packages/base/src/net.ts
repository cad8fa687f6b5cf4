/** @module Network facts every part shares. */

/** 127.0.0.0/8, ::1 and localhost: addresses only this machine reaches. */
export function isLoopback(addr: string): boolean {
  return addr === 'localhost' || addr === '::1' || /^127(\.\d{1,3}){3}$/.test(addr);
}
