/** @module The functions page (placeholder until it is built). */
import type { Page } from '../page.ts';
import { placeholder } from './placeholder.ts';

export const page: Page = placeholder('/functions', 'Functions');
