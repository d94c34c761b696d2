package org.peft4j.api.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;

/**
 * Base of every peft4j block. Parameters get their shape when they are declared, so a whole tree is
 * initialised eagerly by {@link #initialize} without DJL's shape inference (input shapes are ignored).
 *
 * <p>Subclasses declare parameters and children in the constructor and compute only in {@code
 * forwardInternal}, reading weights through the {@link ParameterStore}.
 */
public abstract class ModuleBlock extends AbstractBlock {

    private NDManager parameterManager;
    private DataType parameterType;

    /** Declares a parameter of a fixed shape. */
    protected final Parameter param(String name, Shape shape, Initializer initializer) {
        return addParameter(
                Parameter.builder()
                        .setName(name)
                        .setType(Parameter.Type.OTHER)
                        .optShape(shape)
                        .optInitializer(initializer)
                        .build());
    }

    /**
     * Declares a parameter after construction (DMLoRA's averaged branches and learnable scales). If the block is
     * already initialised, the parameter is initialised at once, in the block's manager and type.
     */
    protected final Parameter addLateParameter(String name, Shape shape, Initializer initializer) {
        if (parameters.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " already has a parameter named " + name);
        }
        Parameter parameter = param(name, shape, initializer);
        if (parameterManager != null) {
            parameter.initialize(parameterManager, parameterType);
        }
        return parameter;
    }

    /**
     * Removes one of this block's own parameters for good and frees its tensor (DMLoRA's dropped branches): it
     * no longer appears in {@code getParameters()}, so trainers and checkpoints stop seeing it.
     */
    protected final void removeParameter(Parameter parameter) {
        if (parameters.get(parameter.getName()) != parameter) {
            throw new IllegalArgumentException(
                    getClass().getSimpleName() + " has no parameter " + parameter.getName() + " to remove");
        }
        parameters.remove(parameter.getName());
        parameter.close();
    }

    /** Registers a child block (DJL prefixes its name with a counter). */
    protected final <B extends Block> B child(String name, B block) {
        return addChildBlock(name, block);
    }

    /** Adds a child after construction (sites attach adapters this way). */
    protected final void addLateChild(String name, Block block) {
        children.add(name, block);
    }

    /** Removes a child added by {@link #addLateChild}. */
    protected final void removeLateChild(String name) {
        children.remove(name);
    }

    /** The manager this block's parameters were initialised in (null before {@link #initialize}). */
    public NDManager parameterManager() {
        return parameterManager;
    }

    @Override
    public void initialize(NDManager manager, DataType dataType, Shape... inputShapes) {
        this.parameterManager = manager;
        this.parameterType = dataType;
        for (Parameter parameter : getDirectParameters().values()) {
            parameter.initialize(manager, dataType);
        }
        for (Block childBlock : getChildren().values()) {
            childBlock.initialize(manager, dataType, inputShapes);
        }
        this.inputShapes = inputShapes;
    }

    @Override
    public boolean isInitialized() {
        for (Parameter parameter : getParameters().values()) {
            if (!parameter.isInitialized()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        throw new UnsupportedOperationException(
                getClass().getSimpleName() + " has fixed parameter shapes and does no shape inference");
    }

    /**
     * The value of a parameter on the device and in the floating-point type of {@code like} (the activation it
     * meets). Under fp16 the frozen weights are stored in fp16 and read as they are, while trainable ones stay fp32
     * (the optimiser's master copies) and are cast here with a cast that keeps their gradient.
     */
    protected static NDArray value(
            ParameterStore store, Parameter parameter, NDArray like, boolean training) {
        NDArray v = store.getValue(parameter, like.getDevice(), training);
        DataType type = like.getDataType();
        return type.isFloating() && v.getDataType() != type ? Cast.to(v, type) : v;
    }
}
