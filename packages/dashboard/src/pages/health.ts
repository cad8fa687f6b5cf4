/** @module The health page (placeholder until it is built). */
import type { Page } from '../page.ts';
import { placeholder } from './placeholder.ts';

export const page: Page = placeholder('/health', 'Health');
