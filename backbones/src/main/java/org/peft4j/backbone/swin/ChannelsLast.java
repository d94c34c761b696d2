package org.peft4j.backbone.swin;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** Ops on channels-last maps {@code [B, H, W, C]} that DJL lacks; results live in the input's manager. */
final class ChannelsLast {

    private ChannelsLast() {}

    /** {@code torch.roll(x, by, axis)} for axis 1 or 2 of a 4-D array: two slices and a concat. */
    static NDArray roll(NDArray x, int by, int axis) {
        long size = x.getShape().get(axis);
        int cut = (int) Math.floorMod(-by, size);
        if (cut == 0) {
            return x;
        }
        String head = axis == 1 ? ":, " + cut + ":" : ":, :, " + cut + ":";
        String tail = axis == 1 ? ":, :" + cut : ":, :, :" + cut;
        return x.get(head).concat(x.get(tail), axis);
    }

    /** Zero rows at the bottom and zero columns at the right of {@code [B, H, W, C]}. */
    static NDArray padBottomRight(NDArray x, int padH, int padW) {
        NDArray out = x;
        if (padH > 0) {
            Shape s = out.getShape();
            out = out.concat(x.getManager().zeros(new Shape(s.get(0), padH, s.get(2), s.get(3)), x.getDataType(), x.getDevice()), 1);
        }
        if (padW > 0) {
            Shape s = out.getShape();
            out = out.concat(x.getManager().zeros(new Shape(s.get(0), s.get(1), padW, s.get(3)), x.getDataType(), x.getDevice()), 2);
        }
        return out;
    }
}
