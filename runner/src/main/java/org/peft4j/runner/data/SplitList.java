package org.peft4j.runner.data;

import java.util.List;

/** The samples of one split and the task's class count. */
public record SplitList(String name, List<Sample> samples, int numClasses) {}
