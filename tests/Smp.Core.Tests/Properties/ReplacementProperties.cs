using FsCheck.Xunit;
using NodaTime;
using Smp.Core.Plans;

namespace Smp.Core.Tests.Properties;

/// <summary>
/// SPEC section 10 over generated license histories: the dongle is replaced after any step of the history, and the
/// rest of the history is recorded on the new serial, as staff do once the plan has moved.
/// </summary>
[Properties(Arbitrary = [typeof(PlanArbitraries)], MaxTest = 200)]
public class ReplacementProperties
{
    private static readonly Serial NewSerial = Serial.Parse("VT-NEW-1");
    private static readonly CommandContext Support = new("key:support", "corr-replace");

    /// <summary>
    /// Coverage of the new license equals the old one's (had it not been replaced) on every date after the replacement,
    /// and the old license is never current after it.
    /// </summary>
    [Property(Replay = PropertySeeds.Replay)]
    public void Section10_the_new_license_covers_exactly_the_old_ones_dates_and_the_old_one_is_never_current(PlanScenario scenario)
    {
        var states = scenario.States().ToList();
        for (var at = 0; at < states.Count; at++)
        {
            var (replacedOn, before) = states[at];
            var begun = Given.Changed(PlanDecisions.BeginReplacement(before, NewSerial, null, Given.NoonOn(replacedOn), Support)).License;
            var replacement = Given.Changed(PlanDecisions.CreateReplacement(begun, null)).License;
            var old = Given.Changed(PlanDecisions.CompleteReplacement(begun, Given.NoonOn(replacedOn))).License;

            // The rest of the history, recorded on the new serial.
            foreach (var step in scenario.Steps.Skip(at))
            {
                if (step.DecideOn(replacement, step.On) is Decision.Change change)
                {
                    replacement = change.License;
                }

                Assert.IsType<Decision.Refuse>(PlanDecisions.RefuseIfReplaced(old));
            }

            var unreplaced = scenario.Final;
            for (var day = replacedOn; day <= unreplaced.ExpiresOn.PlusDays(40); day = day.PlusDays(1))
            {
                Assert.True(
                    replacement.StatusOn(day) == unreplaced.StatusOn(day),
                    $"replaced on {replacedOn:uuuu-MM-dd}, on {day:uuuu-MM-dd}: new {replacement.StatusOn(day)}, plan {unreplaced.StatusOn(day)} in {scenario}");
                Assert.NotEqual(PlanStatus.Current, old.StatusOn(day));
            }

            Assert.Equal(unreplaced.ExpiresOn, replacement.ExpiresOn);
            Assert.True(
                PlanRules.CoveredSpans(unreplaced).SequenceEqual(PlanRules.CoveredSpans(replacement)),
                $"replaced on {replacedOn:uuuu-MM-dd}: covered spans differ in {scenario}");
        }
    }
}
