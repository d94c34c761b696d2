package org.peft4j.api;

/**
 * The data settings a backbone's weights expect (as timm's pretrained configs): input size, normalisation
 * and resize interpolation. The data pipeline reads them instead of hard-coding numbers.
 */
public record DataConfig(int imageSize, float[] mean, float[] std, String interpolation) {

    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    public static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};
    public static final float[] INCEPTION_MEAN = {0.5f, 0.5f, 0.5f};
    public static final float[] INCEPTION_STD = {0.5f, 0.5f, 0.5f};

    public static DataConfig imagenet(int imageSize) {
        return new DataConfig(imageSize, IMAGENET_MEAN, IMAGENET_STD, "bicubic");
    }

    public static DataConfig inception(int imageSize) {
        return new DataConfig(imageSize, INCEPTION_MEAN, INCEPTION_STD, "bicubic");
    }
}
