import { describe, expect, it } from 'vitest';
import { SIGN_IN_PATH, signInUrl } from '../../shared/console-api.ts';

describe('the console sign-in link', () => {
  it('joins the server URL and the path as the expression taking trailing slashes off did', () => {
    const before = (serverUrl: string, token: string) =>
      `${serverUrl.replace(/\/+$/, '')}${SIGN_IN_PATH}?token=${encodeURIComponent(token)}`;
    const urls = ['http://127.0.0.1:3000', 'https://gov.example.com/', 'https://gov.example.com/app//', '', '/'];
    const alphabet = '/a:.';
    for (let i = 0; i < 10_000; i++) {
      let url = '';
      for (let length = Math.floor(Math.random() * 10); length > 0; length--)
        url += alphabet[Math.floor(Math.random() * alphabet.length)];
      urls.push(url);
    }
    for (const url of urls) expect(signInUrl(url, 'a b/c'), JSON.stringify(url)).toBe(before(url, 'a b/c'));
  });

  it('keeps slashes a Host header holds before its end', () => {
    const host = `${'/'.repeat(16_000)}x`;
    expect(signInUrl(`http://${host}//`, 't')).toBe(`http://${host}${SIGN_IN_PATH}?token=t`);
  });
});
