package org.peft4j.runner.data;

import java.util.List;

/** The samples of one split (labels already mapped to classifier outputs) and the task's classes. */
public record SplitList(String name, List<Sample> samples, LabelMap labels) {

    public int numClasses() {
        return labels.numClasses();
    }
}
