package org.peft4j.runner.registry;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.peft4j.api.ApiVersion;
import org.peft4j.api.PeftException;
import org.peft4j.api.PeftMethod;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The methods found by {@link ServiceLoader} on the classpath and in the jars of a plugins folder. Each
 * method's defaults come from the {@code reference.conf} files of the same class loader. A provider that
 * fails to load, or was built for another API version, is reported and skipped; duplicate ids are an error;
 * finding no method at all is an error.
 */
public final class MethodRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(MethodRegistry.class);
    private static final String SERVICE = "META-INF/services/" + PeftMethod.class.getName();

    /** One registered method and where it came from. */
    public record Entry(PeftMethod method, String location) {}

    private final Map<String, Entry> methods;
    private final List<String> problems;
    private final ClassLoader loader;
    private final Config reference;

    private MethodRegistry(Map<String, Entry> methods, List<String> problems, ClassLoader loader) {
        this.methods = methods;
        this.problems = problems;
        this.loader = loader;
        this.reference = ConfigFactory.defaultReference(loader);
    }

    /** Discovers methods on the classpath plus every jar in {@code pluginsDir} (which may be absent). */
    public static MethodRegistry discover(Path pluginsDir) {
        ClassLoader parent = MethodRegistry.class.getClassLoader();
        ClassLoader loader = parent;
        List<URL> jars = pluginJars(pluginsDir);
        if (!jars.isEmpty()) {
            loader = new URLClassLoader("peft4j-plugins", jars.toArray(new URL[0]), parent);
        }
        Map<String, Entry> found = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        Iterator<PeftMethod> it = ServiceLoader.load(PeftMethod.class, loader).iterator();
        while (true) {
            PeftMethod method;
            try {
                if (!it.hasNext()) {
                    break;
                }
                method = it.next();
            } catch (ServiceConfigurationError e) {
                problems.add("a method provider failed to load: " + e.getMessage()
                        + (e.getCause() == null ? "" : " (" + e.getCause() + ")"));
                continue;
            }
            String location = location(method.getClass());
            if (method.apiVersion() != ApiVersion.CURRENT) {
                problems.add("method '" + method.id() + "' from " + location + " was built for API version "
                        + method.apiVersion() + ", this peft4j supports " + ApiVersion.CURRENT + "; skipped");
                continue;
            }
            if (!method.id().matches("[a-z][a-z0-9_-]*")) {
                problems.add("method id '" + method.id() + "' from " + location + " is not a lowercase id; skipped");
                continue;
            }
            Entry previous = found.putIfAbsent(method.id(), new Entry(method, location));
            if (previous != null) {
                throw new PeftException("duplicate method id '" + method.id() + "': " + previous.location() + " and " + location);
            }
            LOG.debug("method {} {} from {}", method.id(), method.version(), location);
        }
        problems.addAll(jarsWithoutMethods(jars, found.values()));
        problems.forEach(p -> LOG.debug(p)); // callers show problems() (the CLI prints them as warnings)
        if (found.isEmpty()) {
            throw new PeftException("no PEFT methods found on the classpath or in " + pluginsDir
                    + (problems.isEmpty() ? "" : ": " + problems));
        }
        MethodRegistry registry = new MethodRegistry(found, problems, loader);
        for (String id : found.keySet()) {
            if (!registry.reference.hasPath("peft4j.methods." + id)) {
                throw new PeftException("method '" + id + "' from " + found.get(id).location()
                        + " ships no defaults: its jar needs a reference.conf with a peft4j.methods." + id + " block");
            }
        }
        return registry;
    }

    /**
     * Plugin jars that declare no method: a warning, not an error, because a plugin's own dependencies (libraries
     * without a service entry) legitimately sit next to it in the plugins folder. Jars that declare a method that fails
     * to load are reported by the loader already.
     */
    private static List<String> jarsWithoutMethods(List<URL> jars, Collection<Entry> found) {
        List<String> out = new ArrayList<>();
        for (URL jar : jars) {
            boolean provides = found.stream().anyMatch(e -> e.location().equals(jar.toString()));
            if (!provides && !declaresMethods(jar)) {
                out.add("plugin jar " + Path.of(URI.create(jar.toString())) + " provides no PEFT method (it has no "
                        + SERVICE + " entry); ignored unless another plugin needs its classes");
            }
        }
        return out;
    }

    private static boolean declaresMethods(URL jar) {
        try (JarFile file = new JarFile(Path.of(URI.create(jar.toString())).toFile())) {
            return file.getEntry(SERVICE) != null;
        } catch (IOException e) {
            throw new PeftException("plugin jar " + jar + " cannot be read as a jar: " + e.getMessage());
        }
    }

    private static List<URL> pluginJars(Path dir) {
        if (dir == null || !Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<URL> urls = new ArrayList<>();
            for (Path jar : files.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
                urls.add(jar.toUri().toURL());
            }
            return urls;
        } catch (MalformedURLException e) {
            throw new PeftException("bad plugin path in " + dir + ": " + e.getMessage());
        } catch (IOException e) {
            throw new PeftException("cannot list plugins folder " + dir + ": " + e.getMessage());
        }
    }

    private static String location(Class<?> type) {
        CodeSource source = type.getProtectionDomain().getCodeSource();
        return source == null ? type.getName() : source.getLocation().toString();
    }

    /** The method of this id, or an error listing the known ids. */
    public PeftMethod get(String id) {
        Entry entry = methods.get(id);
        if (entry == null) {
            throw new PeftException("unknown method '" + id + "'; expected one of " + ids());
        }
        return entry.method();
    }

    public List<String> ids() {
        return List.copyOf(methods.keySet());
    }

    public List<Entry> entries() {
        return List.copyOf(methods.values());
    }

    /** Providers that failed to load or were skipped, one sentence each. */
    public List<String> problems() {
        return Collections.unmodifiableList(problems);
    }

    /** The merged reference.conf of the runner, backbones and every method (plugins included). */
    public Config reference() {
        return reference;
    }

    /** The defaults of one method: {@code peft4j.methods.<id>}. */
    public Config defaults(String id) {
        get(id);
        return reference.getConfig("peft4j.methods." + id);
    }

    public ClassLoader classLoader() {
        return loader;
    }
}
