# ruff: noqa
# fmt: off
# Document 001's memory-pressure tests (/work/shared/seeds/001_*.txt), as written there; only
# the imports change: memwatch's MemoryPressureSimulator replaces the seed's own class (which
# needed numpy), `gc` is imported (the seed uses it without importing it), and psutil and
# MemoryAlertSystem come from a small container (tests/seed001/small_container.py: the seed
# would allocate half of this host's free memory). The seed's test_oom_prevention is left out:
# it allocates 50 MB chunks until the machine is 90% full.
# tests/test_memory_pressure.py
import pytest
import asyncio
import gc
import time
from typing import List

from memwatch.stress import MemoryPressureSimulator
from tests.seed001.small_container import MemoryAlertSystem, psutil


class TestMemoryPressure:
    """Test suite for memory pressure scenarios"""
    
    @pytest.fixture
    def simulator(self):
        """Create memory pressure simulator"""
        sim = MemoryPressureSimulator()
        yield sim
        # Cleanup
        sim.allocations.clear()
    
    def test_gradual_memory_pressure(self, simulator):
        """Test system behavior under gradual memory increase"""
        initial_memory = simulator.get_memory_usage()
        memory_readings = []
        
        # Gradually increase memory usage
        for i in range(20):
            simulator.allocate_memory(10)  # 10MB at a time
            current_memory = simulator.get_memory_usage()
            memory_readings.append(current_memory - initial_memory)
            
            # Check if system is responding to pressure
            if current_memory > initial_memory + 150:  # 150MB threshold
                # System should start taking defensive actions
                time.sleep(0.1)  # Allow cleanup mechanisms to run
                
                # Verify some cleanup occurred
                new_reading = simulator.get_memory_usage()
                assert new_reading <= current_memory, "No memory cleanup occurred"
        
        # Verify gradual increase pattern
        for i in range(1, len(memory_readings)):
            assert memory_readings[i] >= memory_readings[i-1] * 0.8, \
                "Unexpected memory drop during gradual increase"
    
    def test_memory_spike_recovery(self, simulator):
        """Test recovery from sudden memory spikes"""
        initial_memory = simulator.get_memory_usage()
        
        # Create sudden spike
        spike_size = 200  # 200MB spike
        simulator.allocate_memory(spike_size)
        spike_memory = simulator.get_memory_usage()
        
        assert spike_memory > initial_memory + spike_size * 0.8, \
            "Memory spike not created properly"
        
        # Release memory
        simulator.release_memory()
        
        # Wait for cleanup
        time.sleep(0.5)
        gc.collect()
        
        # Check recovery
        recovered_memory = simulator.get_memory_usage()
        recovery_ratio = (spike_memory - recovered_memory) / (spike_memory - initial_memory)
        
        assert recovery_ratio > 0.8, \
            f"Poor recovery from memory spike: {recovery_ratio:.1%}"
    
    @pytest.mark.asyncio
    async def test_memory_alert_system(self, simulator):
        """Test memory alert system triggers"""
        alerts_received = []
        
        async def alert_handler(alert_type, details):
            alerts_received.append((alert_type, details))
        
        # Setup alert system
        alert_system = MemoryAlertSystem(
            warning_threshold=0.7,
            critical_threshold=0.85,
            check_interval=0.1
        )
        alert_system.add_handler(alert_handler)
        
        # Start monitoring
        monitor_task = asyncio.create_task(alert_system.start_monitoring())
        
        try:
            # Get system memory info
            total_memory = psutil.virtual_memory().total / (1024 * 1024)  # MB
            available = psutil.virtual_memory().available / (1024 * 1024)
            
            # Allocate memory to trigger warning
            warning_allocation = int(available * 0.5)  # Use 50% of available
            simulator.allocate_memory(warning_allocation)
            
            # Wait for alert
            await asyncio.sleep(0.2)
            
            # Should have warning alert
            assert any(alert[0] == 'warning' for alert in alerts_received), \
                "Warning alert not triggered"
            
            # Allocate more for critical
            critical_allocation = int(available * 0.3)  # Use another 30%
            simulator.allocate_memory(critical_allocation)
            
            # Wait for alert
            await asyncio.sleep(0.2)
            
            # Should have critical alert
            assert any(alert[0] == 'critical' for alert in alerts_received), \
                "Critical alert not triggered"
            
        finally:
            alert_system.stop_monitoring()
            monitor_task.cancel()
            try:
                await monitor_task
            except asyncio.CancelledError:
                pass
