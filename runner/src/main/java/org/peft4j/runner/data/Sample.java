package org.peft4j.runner.data;

import java.nio.file.Path;

/**
 * One labelled image on disk.
 *
 * @param where where it was listed ({@code train800.txt line 12}), for error messages
 */
public record Sample(Path image, int label, String where) {}
