package org.peft4j.runner.registry;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/** Builds real plugin jars in tests: compiles a method's source against the test classpath and jars it. */
public final class PluginJars {

    private PluginJars() {}

    /** Compiles the example plugin of the README (examples/plugin) into {@code plugins/hello.jar}. */
    public static Path hello(Path work) throws IOException {
        Path example = org.peft4j.runner.TestData.FASHION.getParent().getParent().resolve("examples/plugin/src/main");
        String source = Files.readString(example.resolve("java/org/example/hello/HelloMethod.java"));
        return build(work, "hello", "org.example.hello.HelloMethod", source, Files.readString(example.resolve("resources/reference.conf")));
    }

    public static Path build(Path work, String name, String className, String source, String referenceConf) throws IOException {
        Path src = work.resolve("src-" + name);
        Path classes = work.resolve("classes-" + name);
        Path file = src.resolve(className.replace('.', '/') + ".java");
        Files.createDirectories(file.getParent());
        Files.createDirectories(classes);
        Files.writeString(file, source);
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        int rc = compiler.run(null, null, null, "-d", classes.toString(), "-cp", System.getProperty("java.class.path"), file.toString());
        if (rc != 0) {
            throw new IllegalStateException("plugin source did not compile");
        }
        Path plugins = work.resolve("plugins");
        Files.createDirectories(plugins);
        Path jar = plugins.resolve(name + ".jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            for (Path c : Files.walk(classes).filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(c).toString().replace('\\', '/')));
                Files.copy(c, out);
                out.closeEntry();
            }
            put(out, "META-INF/services/org.peft4j.api.PeftMethod", className + "\n");
            put(out, "reference.conf", referenceConf);
        }
        return plugins;
    }

    /** A jar whose service entry names a class that does not exist. */
    public static void broken(Path plugins) throws IOException {
        Files.createDirectories(plugins);
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(plugins.resolve("broken.jar")))) {
            put(out, "META-INF/services/org.peft4j.api.PeftMethod", "org.example.Missing\n");
        }
    }

    private static void put(JarOutputStream out, String name, String content) throws IOException {
        out.putNextEntry(new JarEntry(name));
        OutputStream os = out;
        os.write(content.getBytes(StandardCharsets.UTF_8));
        out.closeEntry();
    }

    static List<String> ids(MethodRegistry registry) {
        return registry.ids();
    }
}
