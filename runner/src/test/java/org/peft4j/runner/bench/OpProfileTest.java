package org.peft4j.runner.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Self time is an event's duration less that of the events nested directly inside it, per thread. */
class OpProfileTest {

    private static JsonObject event(String name, double ts, double dur, int tid) {
        JsonObject e = new JsonObject();
        e.addProperty("name", name);
        e.addProperty("ph", "X");
        e.addProperty("ts", ts);
        e.addProperty("dur", dur);
        e.addProperty("tid", tid);
        return e;
    }

    @Test
    void nestedOpsCountOnlyTheirOwnTimeAndThreadsDoNotNest() {
        JsonArray trace = new JsonArray();
        trace.add(event("aten::linear", 0, 100, 1));
        trace.add(event("aten::mm", 10, 60, 1)); // inside linear
        trace.add(event("aten::empty", 12, 5, 1)); // inside mm
        trace.add(event("aten::add_", 75, 20, 1)); // inside linear, after mm
        trace.add(event("aten::mm", 120, 30, 1)); // top level again
        trace.add(event("aten::mm", 20, 40, 2)); // overlaps linear in time, but on another thread
        trace.add(event("aten::empty", 100, 0, 1)); // starts as linear ends: not nested in it

        Map<String, OpProfile.Op> ops = OpProfile.of(trace).ops().stream()
                .collect(Collectors.toMap(OpProfile.Op::name, Function.identity()));

        assertThat(ops.get("aten::linear").selfMicros()).isEqualTo(100 - 60 - 20);
        assertThat(ops.get("aten::linear").totalMicros()).isEqualTo(100);
        assertThat(ops.get("aten::mm").calls()).isEqualTo(3);
        assertThat(ops.get("aten::mm").selfMicros()).isEqualTo((60 - 5) + 30 + 40);
        assertThat(ops.get("aten::mm").totalMicros()).isEqualTo(60 + 30 + 40);
        assertThat(ops.get("aten::empty").selfMicros()).isEqualTo(5);
        assertThat(ops.get("aten::add_").selfMicros()).isEqualTo(20);
        // largest self time first, and the self times add up to the busy time of both threads
        assertThat(OpProfile.of(trace).ops().get(0).name()).isEqualTo("aten::mm");
        assertThat(OpProfile.of(trace).selfMicros()).isEqualTo(100 + 30 + 40);
        assertThat(OpProfile.of(trace).table()).contains("aten::mm").contains("(all ops)");
    }
}
