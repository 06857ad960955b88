using Tern.Training.Optimization;

namespace Tern.Tests.Training;

public class LearningRateScheduleTests
{
    [Fact]
    public void Two_stage_schedule_has_warmup_linear_decay_a_drop_at_the_middle_and_decay_to_the_end()
    {
        var s = LearningRateSchedule.BitNet(1e-3, steps: 100, warmup: 10);
        Assert.Equal(1e-4, s.LearningRate(0), 12);
        Assert.Equal(1e-3, s.LearningRate(9), 12);
        Assert.Equal(1e-3, s.LearningRate(10), 12);
        Assert.Equal(0.5e-3, s.LearningRate(49), 12);
        Assert.Equal(0.2e-3, s.LearningRate(50), 12);
        Assert.Equal(0.02e-3, s.LearningRate(99), 12);
        Assert.True(s.LearningRate(30) < s.LearningRate(20) && s.LearningRate(70) < s.LearningRate(60));
        Assert.Equal(0.1, s.WeightDecayAt(49));
        Assert.Equal(0.0, s.WeightDecayAt(50));
    }

    [Fact]
    public void Cosine_schedule_decays_to_a_tenth_and_keeps_weight_decay()
    {
        var s = LearningRateSchedule.Cosine(1e-3, steps: 102, warmup: 1);
        Assert.Equal(1e-3, s.LearningRate(0), 12);
        Assert.Equal(1e-3, s.LearningRate(1), 12);
        Assert.Equal(0.55e-3, s.LearningRate(51), 12);
        Assert.Equal(0.1e-3, s.LearningRate(101), 12);
        Assert.Equal(0.1, s.WeightDecayAt(101));
    }
}
