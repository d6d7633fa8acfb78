// Model: weights, streaming encoder, cached decoder, sampler.
