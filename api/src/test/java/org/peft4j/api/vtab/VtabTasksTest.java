package org.peft4j.api.vtab;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.peft4j.api.vtab.VtabTasks.Group;

class VtabTasksTest {

    @Test
    void nineteenTasksInTheirGroups() {
        Map<Group, Long> sizes = VtabTasks.all().stream()
                .collect(Collectors.groupingBy(VtabTasks.Task::group, Collectors.counting()));
        assertThat(sizes).containsEntry(Group.NATURAL, 7L).containsEntry(Group.SPECIALIZED, 4L)
                .containsEntry(Group.STRUCTURED, 8L);
        Map<String, Group> byName = VtabTasks.all().stream()
                .collect(Collectors.toMap(VtabTasks.Task::name, VtabTasks.Task::group));
        assertThat(byName).containsEntry("sun397", Group.NATURAL).containsEntry("diabetic_retinopathy", Group.SPECIALIZED)
                .containsEntry("dmlab", Group.STRUCTURED).containsEntry("smallnorb_ele", Group.STRUCTURED);
        assertThat(VtabTasks.names()).hasSize(19).doesNotHaveDuplicates();
        assertThat(VtabTasks.all().stream().map(VtabTasks.Task::name).collect(Collectors.toMap(Function.identity(),
                n -> VtabTasks.find(n).orElseThrow().name()))).allSatisfy((k, v) -> assertThat(v).isEqualTo(k));
    }

    @Test
    void datasetNamesAreMatchedLeniently() {
        assertThat(VtabTasks.find("vtab-1k/CIFAR100").orElseThrow().name()).isEqualTo("cifar");
        assertThat(VtabTasks.find("sNORB-Azim").orElseThrow().name()).isEqualTo("smallnorb_azi");
        assertThat(VtabTasks.find("vtab_1k_clevr_count").orElseThrow().group()).isEqualTo(Group.STRUCTURED);
        assertThat(VtabTasks.find("KITTI-Dist").orElseThrow().name()).isEqualTo("kitti");
        assertThat(VtabTasks.find("Patch-Camelyon").orElseThrow().group()).isEqualTo(Group.SPECIALIZED);
        assertThat(VtabTasks.find("fashion-1k")).isEmpty();
        assertThat(VtabTasks.find("cub")).isEmpty();
        assertThat(VtabTasks.find(null)).isEmpty();
        assertThat(Group.SPECIALIZED.label()).isEqualTo("Specialized");
    }
}
