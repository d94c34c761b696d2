package org.peft4j.runner.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The ops of a PyTorch profiler trace (DJL's chrome://tracing file: complete events with {@code name, ts, dur, tid}),
 * summed by name: calls, total time and self time (total less the time of the ops nested inside it on its thread).
 * Self time is what a slower op costs; total time double-counts an op's children.
 */
public final class OpProfile {

    /** One op name's totals, in microseconds. */
    public record Op(String name, long calls, double totalMicros, double selfMicros) {}

    private final List<Op> ops;

    private OpProfile(List<Op> ops) {
        this.ops = ops;
    }

    /** Reads a trace file written by DJL's {@code JniUtils.stopProfile}. */
    public static OpProfile read(Path trace) throws IOException {
        try (Reader reader = Files.newBufferedReader(trace)) {
            return of(JsonParser.parseReader(reader).getAsJsonArray());
        }
    }

    static OpProfile of(JsonArray events) {
        Map<String, List<Event>> byThread = new HashMap<>();
        for (JsonElement element : events) {
            JsonObject e = element.getAsJsonObject();
            if (!e.has("dur")) {
                continue;
            }
            Event event = new Event(e.get("name").getAsString(), e.get("ts").getAsDouble(), e.get("dur").getAsDouble());
            byThread.computeIfAbsent(e.has("tid") ? e.get("tid").getAsString() : "", t -> new ArrayList<>()).add(event);
        }
        Map<String, double[]> totals = new HashMap<>(); // name -> calls, total, self
        for (List<Event> thread : byThread.values()) {
            // outer events first where they start together, so a child always follows its parent
            thread.sort(Comparator.comparingDouble(Event::start).thenComparing(Comparator.comparingDouble(Event::duration).reversed()));
            Deque<Event> open = new ArrayDeque<>();
            for (Event event : thread) {
                while (!open.isEmpty() && open.peek().end() <= event.start()) {
                    open.pop();
                }
                if (!open.isEmpty()) {
                    open.peek().children += event.duration();
                }
                open.push(event);
            }
            for (Event event : thread) {
                double[] t = totals.computeIfAbsent(event.name(), n -> new double[3]);
                t[0]++;
                t[1] += event.duration();
                t[2] += Math.max(0, event.duration() - event.children);
            }
        }
        List<Op> ops = new ArrayList<>();
        totals.forEach((name, t) -> ops.add(new Op(name, (long) t[0], t[1], t[2])));
        ops.sort(Comparator.comparingDouble(Op::selfMicros).reversed().thenComparing(Op::name));
        return new OpProfile(ops);
    }

    /** Op names by self time, largest first. */
    public List<Op> ops() {
        return ops;
    }

    /** The sum of every op's self time: the time spent inside profiled ops. */
    public double selfMicros() {
        return ops.stream().mapToDouble(Op::selfMicros).sum();
    }

    /** A table of the ops, largest self time first, with each one's share of the total self time. */
    public String table() {
        double all = selfMicros();
        StringBuilder text = new StringBuilder(String.format(Locale.ROOT, "%-48s %7s %12s %12s %7s%n", "op", "calls",
                "self ms", "total ms", "self %"));
        for (Op op : ops) {
            text.append(String.format(Locale.ROOT, "%-48s %7d %12.3f %12.3f %7.2f%n", op.name(), op.calls(),
                    op.selfMicros() / 1e3, op.totalMicros() / 1e3, all > 0 ? 100 * op.selfMicros() / all : 0));
        }
        text.append(String.format(Locale.ROOT, "%-48s %7s %12.3f%n", "(all ops)", "", all / 1e3));
        return text.toString();
    }

    private static final class Event {
        private final String name;
        private final double start;
        private final double duration;
        private double children;

        Event(String name, double start, double duration) {
            this.name = name;
            this.start = start;
            this.duration = duration;
        }

        String name() {
            return name;
        }

        double start() {
            return start;
        }

        double duration() {
            return duration;
        }

        double end() {
            return start + duration;
        }
    }
}
