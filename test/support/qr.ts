import jsQR from 'jsqr';
import type { Locator } from 'playwright-core';

/**
 * Reads a QR code the way a tablet's camera would: from a screenshot of what the screen shows.
 * Chromium turns the PNG into pixels (a blank page of the same browser), jsQR reads the code.
 */
export async function decodeQrCode(shown: Locator): Promise<string> {
  const png = await shown.screenshot();
  const decoder = await shown.page().context().newPage();
  try {
    const { width, height, pixels } = await decoder.evaluate(async (base64) => {
      const image = new Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      const context = canvas.getContext('2d');
      if (!context) throw new Error('no 2d canvas');
      context.drawImage(image, 0, 0);
      return {
        width: canvas.width,
        height: canvas.height,
        pixels: Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data),
      };
    }, png.toString('base64'));
    const code = jsQR(Uint8ClampedArray.from(pixels), width, height);
    if (!code) throw new Error('no QR code could be read from the screenshot');
    return code.data;
  } finally {
    await decoder.close();
  }
}
