package pibl.demo;

import java.util.Arrays;

/**
 * Small PNG images for the test pages: square tiles in distinct colours showing their number in seven-segment digits.
 *
 * <pre>
 *   tile(3)  --&gt;  a 256x256 PNG, hue 3/12 of the colour wheel, a white "3" in the middle (about 2 KB)
 * </pre>
 *
 * The digits are filled rectangles drawn straight into a pixel array and {@link PngEncoder} writes the file, so no
 * font, display or AWT is needed: this works, and starts fast, on a bare headless server.
 */
final class PngTiles {

    /** Width and height of every tile, in pixels. */
    static final int SIZE = 256;

    private static final int DIGIT_WIDTH = 56;
    private static final int DIGIT_HEIGHT = 104;
    private static final int STROKE = 14;
    private static final int GAP = 18;
    private static final int BORDER = 10;

    /** Segments lit per digit, as bits a=1, b=2, c=4, d=8, e=16, f=32, g=64 (the classic seven-segment layout). */
    private static final int[] SEGMENTS = {
            0b0111111, 0b0000110, 0b1011011, 0b1001111, 0b1100110,
            0b1101101, 0b1111101, 0b0000111, 0b1111111, 0b1101111};

    private PngTiles() {
    }

    /** The PNG of tile {@code number} (0 or more), one of {@code of} hues. */
    static byte[] tile(int number, int of) {
        double hue = (double) number / Math.max(1, of);
        int[] image = new int[SIZE * SIZE];
        fill(image, 0, 0, SIZE, SIZE, hsv(hue, 0.55, 0.6));
        fill(image, BORDER, BORDER, SIZE - 2 * BORDER, SIZE - 2 * BORDER, hsv(hue, 0.55, 0.85));
        String digits = Integer.toString(number);
        int width = digits.length() * DIGIT_WIDTH + (digits.length() - 1) * GAP;
        int x = (SIZE - width) / 2;
        int y = (SIZE - DIGIT_HEIGHT) / 2;
        for (char digit : digits.toCharArray()) {
            drawDigit(image, x, y, digit - '0', 0xffffff);
            x += DIGIT_WIDTH + GAP;
        }
        return PngEncoder.encode(SIZE, SIZE, image);
    }

    /** 0xRRGGBB for a hue (0..1, around the colour wheel), saturation and value (0..1). */
    static int hsv(double hue, double saturation, double value) {
        double h = (hue - Math.floor(hue)) * 6;
        int sector = (int) h;
        double f = h - sector;
        double p = value * (1 - saturation);
        double q = value * (1 - saturation * f);
        double t = value * (1 - saturation * (1 - f));
        double[] rgb = switch (sector) {
            case 0 -> new double[] {value, t, p};
            case 1 -> new double[] {q, value, p};
            case 2 -> new double[] {p, value, t};
            case 3 -> new double[] {p, q, value};
            case 4 -> new double[] {t, p, value};
            default -> new double[] {value, p, q};
        };
        return (int) Math.round(rgb[0] * 255) << 16 | (int) Math.round(rgb[1] * 255) << 8
                | (int) Math.round(rgb[2] * 255);
    }

    private static void drawDigit(int[] image, int x, int y, int digit, int rgb) {
        int w = DIGIT_WIDTH;
        int h = DIGIT_HEIGHT;
        int t = STROKE;
        int half = h / 2;
        int[][] rects = {
                {x, y, w, t},                        // a: top
                {x + w - t, y, t, half + t / 2},     // b: upper right
                {x + w - t, y + half - t / 2, t, h - half + t / 2}, // c: lower right
                {x, y + h - t, w, t},                // d: bottom
                {x, y + half - t / 2, t, h - half + t / 2},         // e: lower left
                {x, y, t, half + t / 2},             // f: upper left
                {x, y + half - t / 2, w, t},         // g: middle
        };
        for (int segment = 0; segment < rects.length; segment++) {
            if ((SEGMENTS[digit] & (1 << segment)) != 0) {
                int[] r = rects[segment];
                fill(image, r[0], r[1], r[2], r[3], rgb);
            }
        }
    }

    private static void fill(int[] image, int x, int y, int width, int height, int rgb) {
        for (int row = y; row < y + height; row++) {
            Arrays.fill(image, row * SIZE + x, row * SIZE + x + width, rgb);
        }
    }
}
