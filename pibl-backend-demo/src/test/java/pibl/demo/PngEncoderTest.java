package pibl.demo;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;

import static org.assertj.core.api.Assertions.assertThat;

class PngEncoderTest {

    @Test
    void encodedPixelsDecodeBackExactly() throws Exception {
        int[] pixels = {0xff0000, 0x00ff00, 0x0000ff, 0x123456, 0xffffff, 0x000000};

        BufferedImage image = ImageIO.read(new ByteArrayInputStream(PngEncoder.encode(3, 2, pixels)));

        assertThat(image).as("a PNG a standard decoder accepts").isNotNull();
        assertThat(image.getWidth()).isEqualTo(3);
        assertThat(image.getHeight()).isEqualTo(2);
        for (int i = 0; i < pixels.length; i++) {
            assertThat(image.getRGB(i % 3, i / 3) & 0xffffff).as("pixel %d", i).isEqualTo(pixels[i]);
        }
    }

    @Test
    void tilesAreSquaresWithAWhiteNumberOnAColouredBackground() throws Exception {
        BufferedImage tile = ImageIO.read(new ByteArrayInputStream(PngTiles.tile(8, 12)));

        assertThat(tile.getWidth()).isEqualTo(PngTiles.SIZE);
        assertThat(tile.getHeight()).isEqualTo(PngTiles.SIZE);
        assertThat(tile.getRGB(PngTiles.SIZE / 2, PngTiles.SIZE / 2) & 0xffffff)
                .as("the middle segment of an 8 is lit")
                .isEqualTo(0xffffff);
        assertThat(tile.getRGB(20, 20) & 0xffffff).as("background").isNotEqualTo(0xffffff);
        assertThat(PngTiles.tile(1, 12)).as("each number its own picture").isNotEqualTo(PngTiles.tile(2, 12));
    }
}
