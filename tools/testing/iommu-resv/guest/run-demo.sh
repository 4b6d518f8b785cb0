#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# 'make run' inside the guest: groups and regions, then VFIO at work.
echo "kernel $(uname -r) ($(uname -m)), $(ls /sys/kernel/iommu_groups | wc -l) IOMMU groups"
show-groups
echo
vfio-map-demo
