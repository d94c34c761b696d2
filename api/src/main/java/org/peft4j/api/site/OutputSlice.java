package org.peft4j.api.site;

/** A named range of output features of a LINEAR site, like the q, k and v rows of a fused qkv. */
public record OutputSlice(String name, int start, int end) {

    public OutputSlice {
        if (start < 0 || end <= start) {
            throw new IllegalArgumentException("bad slice " + name + " [" + start + ", " + end + ")");
        }
    }

    public int size() {
        return end - start;
    }
}
