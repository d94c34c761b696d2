package org.peft4j.methods.mosa;

import java.util.List;
import org.peft4j.api.site.Adapter;

/** An adapter made of experts: MoSA's bottleneck, MoSL's LoRA. Its sides are drawn, masked and merged by the tuner. */
interface MixtureAdapter extends Adapter {

    /** Its sides in a fixed order (down then up; A then B): the order draws are taken in. */
    List<ExpertSide> sides();

    /** Parameters stored beyond what the merged adapter holds (expert copies), for the reported count. */
    default long extraParameters() {
        return sides().stream().flatMap(s -> s.tensors().stream()).mapToLong(ExpertTensor::extraParameters).sum();
    }
}
